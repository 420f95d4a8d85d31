#!/usr/bin/env node
// `npx jit-lock [options] FILE -- COMMAND [ARGS...]`: runs COMMAND while
// holding a lock on FILE (src/cli.ts; `jit-lock --help`).
'use strict';
require('../dist/cli.js')
  .main(process.argv.slice(2))
  .then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`jit-lock: ${error && error.stack ? error.stack : error}\n`);
      process.exit(70); // EX_SOFTWARE: a bug of ours
    },
  );
