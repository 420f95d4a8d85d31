// ESLint rule `jit/layers`: the arrows point one way. native -> jit-lock (the
// repository root) -> the store -> the faces (CLI, MCP, web). Checks every way a
// module names another: import/export ... from, import(), require() (the CLI
// loads command groups lazily with it) and `typeof import()` in types.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where each layer lives, most specific first; the root (jit-lock) holds whatever is left. */
const LAYERS = [
  ['packages/jit/src/store', 'store'],
  ['packages/jit/src/cli', 'cli'],
  ['packages/jit/src/mcp', 'mcp'],
  ['packages/jit/src/web', 'web'],
  ['packages/jit/web', 'web-ui'], // the page's sources, bundled for the browser: the store's shapes (types) only
  ['packages/jit/src/lock', 'jit-lock'], // jit-tracker/lock: a re-export of jit-lock
  ['packages/jit', 'jit-tracker'], // its entry points, bin, tests and benchmarks
  ['', 'jit-lock'],
];

/** The layers each layer may import besides its own (and Node's or npm's modules). */
const MAY_IMPORT = {
  'jit-lock': [],
  store: ['jit-lock'],
  cli: ['store', 'jit-lock'],
  mcp: ['store', 'jit-lock'],
  web: ['store', 'jit-lock'],
  'web-ui': ['store'],
  'jit-tracker': ['store', 'cli', 'mcp', 'web', 'jit-lock'],
};

/**
 * The store's public surface: the faces import it only through these modules
 * (index.ts, and core.ts, its part that loads without the file store and the
 * lock addon, for the CLI's start-up), never its internals.
 */
// lock-stats: the optional lock figures (JIT_LOCK_STATS, jit mcp, debug locks --stats), loaded only when asked for.
// open: finding and opening a .jit/, what a CLI command loads first (the rest of index.ts on demand).
const STORE_ENTRY_POINTS = ['packages/jit/src/store/index', 'packages/jit/src/store/core', 'packages/jit/src/store/open', 'packages/jit/src/store/lock-stats'];
const FACES = ['cli', 'mcp', 'web', 'web-ui'];

/** The arrows between the faces: `jit mcp` starts the MCP server, `jit serve` the web server. */
const EXCEPTIONS = [
  { file: 'packages/jit/src/cli/commands/mcp.ts', may: 'mcp' },
  { file: 'packages/jit/src/cli/commands/serve.ts', may: 'web' },
];

function layerOfPath(absolute) {
  const relative = path.relative(REPO, absolute).split(path.sep).join('/');
  if (relative.startsWith('../') || path.isAbsolute(relative)) return undefined; // outside the repository
  return LAYERS.find(([dir]) => dir === '' || relative === dir || relative.startsWith(`${dir}/`))[1];
}

/** A relative specifier's target without its extension, relative to the repository ('packages/jit/src/store/index'). */
function targetOf(specifier, fromFile) {
  const relative = path.relative(REPO, path.resolve(path.dirname(fromFile), specifier)).split(path.sep).join('/');
  return relative.replace(/\.(js|ts|mjs|cjs)$/, '');
}

function layerOfSpecifier(specifier, fromFile) {
  if (specifier.startsWith('.')) return layerOfPath(path.resolve(path.dirname(fromFile), specifier));
  if (specifier === 'jit-lock' || specifier.startsWith('jit-lock/')) return 'jit-lock';
  if (specifier === 'jit-tracker' || specifier.startsWith('jit-tracker/')) return 'jit-tracker';
  return undefined; // node:*, npm packages
}

export const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports point one way: jit-lock <- store <- CLI, MCP (the CLI reaches MCP only in `jit mcp`); the faces use only the store\'s public surface.' },
    schema: [],
    messages: {
      upward:
        '{{from}} ({{fromLayer}}) must not import {{specifier}} ({{toLayer}}): imports point one way, ' +
        'native -> jit-lock -> store -> CLI, MCP, web; the CLI reaches MCP only in the `jit mcp` command (src/cli/commands/mcp.ts), the web server only in `jit serve` (src/cli/commands/serve.ts); the page (packages/jit/web) imports only the public surface of the store.',
      internal:
        '{{from}} ({{fromLayer}}) must not import {{specifier}}, an internal module of the store: the faces import the store ' +
        'only from its public surface, store/index.js (or store/core.js, the part that loads without the file store and the lock addon, store/open.js, the part a CLI command starts with, or store/lock-stats.js, the optional lock figures).',
    },
  },
  create(context) {
    const file = context.filename;
    const fromLayer = layerOfPath(file);
    if (fromLayer === undefined) return {};
    const relativeFile = path.relative(REPO, file).split(path.sep).join('/');
    const check = (node) => {
      if (!node || typeof node.value !== 'string') return;
      const toLayer = layerOfSpecifier(node.value, file);
      if (toLayer === 'store' && FACES.includes(fromLayer) && !STORE_ENTRY_POINTS.includes(targetOf(node.value, file))) {
        context.report({ node, messageId: 'internal', data: { from: relativeFile, fromLayer, specifier: node.value } });
        return;
      }
      if (toLayer === undefined || toLayer === fromLayer || MAY_IMPORT[fromLayer].includes(toLayer)) return;
      if (EXCEPTIONS.some((e) => e.file === relativeFile && e.may === toLayer)) return;
      context.report({ node, messageId: 'upward', data: { from: relativeFile, fromLayer, specifier: node.value, toLayer } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSExternalModuleReference: (node) => check(node.expression),
      TSImportType: (node) => check(node.source ?? node.argument?.literal), // `source` since typescript-eslint 8.x
      CallExpression(node) {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require') check(node.arguments[0]);
      },
    };
  },
};

export default { rules: { layers: layersRule } };
