// jit/layers (scripts/eslint-layers.mjs): every way of naming a module, each
// arrow that is allowed and each that points the wrong way.
import path from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';
import { layersRule, REPO } from './eslint-layers.mjs';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const tester = new RuleTester({ languageOptions: { parser: tseslint.parser } });
const at = (file) => path.join(REPO, file);
const upward = [{ messageId: 'upward' }];
const internal = [{ messageId: 'internal' }];

tester.run('jit/layers', layersRule, {
  valid: [
    // the toolkit imports only itself (and Node, and npm packages)
    { filename: at('src/lock.ts'), code: "import { openAttempt } from './acquire.js'; import * as fs from 'node:fs';" },
    { filename: at('test/lock/waiting.test.ts'), code: "import { lock } from '../../src/index.js';" },
    // the store imports the toolkit, by name or through the tracker's re-export
    { filename: at('packages/jit/src/store/locker.ts'), code: "import { lockAll } from 'jit-lock'; import type { LockMode } from '../lock/index.js';" },
    // the faces import the store through its public surface, also lazily and in types
    { filename: at('packages/jit/src/cli/commands/debug.ts'), code: "const m = require('../../store/index.js') as typeof import('../../store/index.js');" },
    { filename: at('packages/jit/src/mcp/tools.ts'), code: "import { JitError } from '../store/core.js'; import type { Tracker } from '../store/index.js';" },
    // `jit mcp` is the one place the CLI starts the MCP server
    { filename: at('packages/jit/src/cli/commands/mcp.ts'), code: "const m = require('../../mcp/index.js');" },
    // `jit serve` is the one place the CLI starts the web server, which uses the store's public surface
    { filename: at('packages/jit/src/cli/commands/serve.ts'), code: "const m = require('../../web/index.js');" },
    { filename: at('packages/jit/src/web/server.ts'), code: "import { JitError } from '../store/core.js'; import { watchChanges } from '../store/index.js';" },
    { filename: at('packages/jit/web/api.ts'), code: "import type { Issue } from '../src/store/core.js';" },
    // the tracker's tests and entry points see everything
    { filename: at('packages/jit/test/cli/output.test.ts'), code: "import { openTracker } from '../../src/store/index.js'; import { x } from '../../src/cli/output.js';" },
    { filename: at('packages/jit/src/index.ts'), code: "export * from './lock/index.js';" },
  ],
  invalid: [
    // the toolkit never imports the tracker
    { filename: at('src/lock.ts'), code: "import { JitError } from '../packages/jit/src/store/errors.js';", errors: upward },
    { filename: at('src/native.ts'), code: "const tracker = require('jit-tracker/store');", errors: upward },
    { filename: at('test/lock/helpers.ts'), code: "export * from '../../packages/jit/src/store/index.js';", errors: upward },
    // the store never imports a face
    { filename: at('packages/jit/src/store/tracker.ts'), code: "import { EXIT } from '../cli/exit-codes.js';", errors: upward },
    { filename: at('packages/jit/src/store/hints.ts'), code: "type T = typeof import('../mcp/tools.js');", errors: upward },
    { filename: at('packages/jit/src/store/files.ts'), code: "export { TOOLS } from '../mcp/tools.js';", errors: upward },
    // MCP never imports the CLI
    { filename: at('packages/jit/src/mcp/suggestions.ts'), code: "import { renderError } from '../cli/output.js';", errors: upward },
    { filename: at('packages/jit/src/mcp/server.ts'), code: "const p = await import('../cli/program.js');", errors: upward },
    // the faces never reach into the store's internals
    { filename: at('packages/jit/src/cli/commands/debug.ts'), code: "const m = require('../../store/debug-locks.js') as typeof import('../../store/index.js');", errors: internal },
    { filename: at('packages/jit/src/mcp/tools.ts'), code: "import { JitError } from '../store/errors.js';", errors: internal },
    { filename: at('packages/jit/src/cli/context.ts'), code: "type S = typeof import('../store/jit-dir.js');", errors: internal },
    { filename: at('packages/jit/src/mcp/index.ts'), code: "export { Tracker } from '../store/tracker.js';", errors: internal },
    // the CLI reaches MCP only through `jit mcp`
    { filename: at('packages/jit/src/cli/commands/issue.ts'), code: "const m = require('../../mcp/index.js');", errors: upward },
    { filename: at('packages/jit/src/cli/output.ts'), code: "import type { McpTool } from '../mcp/tools.js';", errors: upward },
    // the web server imports neither the CLI nor the MCP server nor the store's internals; the page imports no face
    { filename: at('packages/jit/src/web/api.ts'), code: "import { printIssue } from '../cli/output.js';", errors: upward },
    { filename: at('packages/jit/src/web/api.ts'), code: "import { TOOLS } from '../mcp/tools.js';", errors: upward },
    { filename: at('packages/jit/src/web/api.ts'), code: "import { Tracker } from '../store/tracker.js';", errors: internal },
    { filename: at('packages/jit/web/app.tsx'), code: "import { api } from '../src/web/api.js';", errors: upward },
    { filename: at('packages/jit/src/cli/commands/issue.ts'), code: "const m = require('../../web/index.js');", errors: upward },
  ],
});
