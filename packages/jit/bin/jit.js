#!/usr/bin/env node
'use strict';
let cli;
try {
  // The bundled CLI with its code cache (cli-bundle.js), or the separate modules when dist/ has no bundle.
  cli = require('./cli-bundle.js').loadBundle()?.exports ?? require('../dist/cli/main.js');
} catch (error) {
  // A checkout that was never built: say so in one line instead of a stack trace.
  if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes("'../dist/cli/main.js'")) {
    process.stderr.write('jit: error: the compiled code (dist/) is missing. Hint: run `npm run build` in the jit package. [INTERNAL]\n');
    process.exit(1);
  }
  throw error;
}
cli.main(process.argv);
