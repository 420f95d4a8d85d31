#!/usr/bin/env node
// Builds the web view's page (web/src, Preact + TypeScript) into dist/webapp/
// with esbuild: app.js, layout-worker.js, app.css and index.html, minified,
// nothing loaded from elsewhere at run time. scripts/build.js runs it after
// tsc; it does nothing when every output is newer than every input.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const web = __dirname;
const out = path.join(web, '..', 'dist', 'webapp');
const STATIC = ['index.html', 'app.css'];
const OUTPUTS = ['app.js', 'layout-worker.js', ...STATIC].map((name) => path.join(out, name));

function newestInput() {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
  };
  visit(path.join(web, 'src'));
  for (const name of [...STATIC, 'build.js']) newest = Math.max(newest, fs.statSync(path.join(web, name)).mtimeMs);
  // The page uses the store's types only, but a changed lock file may bring another Preact or d3-dag.
  newest = Math.max(newest, fs.statSync(path.join(web, '..', '..', '..', 'package-lock.json')).mtimeMs);
  return newest;
}

function oldestOutput() {
  try {
    return Math.min(...OUTPUTS.map((file) => fs.statSync(file).mtimeMs));
  } catch {
    return 0;
  }
}

async function build() {
  if (process.argv.includes('--if-changed') && oldestOutput() > newestInput()) return;
  const esbuild = require('esbuild');
  fs.mkdirSync(out, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(web, 'src', 'main.tsx'), 'layout-worker': path.join(web, 'src', 'layout-worker.ts') },
    outdir: out,
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  for (const name of STATIC) fs.copyFileSync(path.join(web, name), path.join(out, name));
  if (process.argv.includes('--sizes')) {
    for (const [file, info] of Object.entries(result.metafile.outputs)) console.log(`${path.basename(file)}\t${info.bytes} bytes`);
  }
}

build().catch((error) => {
  console.error(error);
  process.exit(1);
});
