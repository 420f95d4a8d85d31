#!/usr/bin/env node
// `npm run pack:all [-- --out <dir>]`: the two tarballs to publish, jit-lock
// (this folder) and jit-tracker (packages/jit). In the repository jit-tracker
// depends on the toolkit as "jit-lock": "file:../.." (npm links it); the
// published package must name a version instead, so jit-tracker is packed
// from a staging copy whose package.json says "<jit-lock version>": exact,
// like every package whose JavaScript the CLI bundle holds
// (packages/jit/scripts/bundled-packages.js), which must meet the native
// binary of the very version it was built with.
// Packs what is built (dist/, prebuilds/): run `node scripts/build.js` first.
// Prints the tarballs' paths, jit-lock's first.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const trackerDir = path.join(root, 'packages', 'jit');

/**
 * The manifest to publish: every `file:` dependency on a package of this
 * repository becomes a range on its version, and a package in `builtWith`
 * (name -> version the CLI bundle holds) that exact version. Throws on a
 * `file:` dependency that points anywhere else (it could not be installed
 * from the registry).
 */
function publishedManifest(manifest, packageDir, localPackages, builtWith = new Map()) {
  const published = structuredClone(manifest);
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
    for (const [name, spec] of Object.entries(published[field] ?? {})) {
      if (!spec.startsWith('file:')) continue;
      const target = path.resolve(packageDir, spec.slice('file:'.length));
      const local = localPackages.find((p) => path.resolve(p.dir) === target && p.name === name);
      if (!local) throw new Error(`${manifest.name}: ${field}.${name} is "${spec}", which is not a package of this repository`);
      published[field][name] = `^${local.version}`;
    }
    for (const name of Object.keys(published[field] ?? {})) {
      if (builtWith.has(name)) published[field][name] = builtWith.get(name);
    }
  }
  // Development scripts and tools live in the repository; an installed package runs none of them.
  delete published.devDependencies;
  const lifecycle = Object.entries(published.scripts ?? {}).filter(([name]) => /^(pre|post)?install$/.test(name));
  if (lifecycle.length > 0) published.scripts = Object.fromEntries(lifecycle);
  else delete published.scripts;
  return published;
}

function npm(args, cwd) {
  // npm is a .cmd on Windows, which only a shell runs.
  return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8', shell: process.platform === 'win32' });
}

/** The version of each package the CLI bundle holds, as installed where the bundle was built (packages/jit resolves them). */
function bundledVersions() {
  const { BUNDLED_PACKAGES } = require(path.join(trackerDir, 'scripts', 'bundled-packages.js'));
  return new Map(BUNDLED_PACKAGES.map((name) => [name, installedVersion(name)]));
}

/** The version of `name` in the first node_modules folder that packages/jit's require() searches holding it. */
function installedVersion(name) {
  for (let dir = trackerDir; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'node_modules', name, 'package.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  }
  throw new Error(`${name} is not installed for packages/jit: run npm install first`);
}

/** Packs `dir` into `out` without running scripts (dist/ is built already); the tarball's path. */
function pack(dir, out) {
  const [result] = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', out], dir));
  return path.join(out, result.filename);
}

function main() {
  const outIndex = process.argv.indexOf('--out');
  const out = path.resolve(outIndex === -1 ? root : process.argv[outIndex + 1]);
  fs.mkdirSync(out, { recursive: true });
  const readManifest = (dir) => JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const toolkit = readManifest(root);
  const tracker = readManifest(trackerDir);

  const toolkitTarball = pack(root, out);

  // Stage exactly the files npm would pack from packages/jit, with the published manifest.
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-tracker-pack-'));
  try {
    const [listing] = JSON.parse(npm(['pack', '--dry-run', '--ignore-scripts', '--json'], trackerDir));
    for (const { path: file } of listing.files) {
      fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
      fs.copyFileSync(path.join(trackerDir, file), path.join(stage, file));
    }
    const manifest = publishedManifest(tracker, trackerDir, [{ name: toolkit.name, version: toolkit.version, dir: root }], bundledVersions());
    fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const trackerTarball = pack(stage, out);
    console.log(toolkitTarball);
    console.log(trackerTarball);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

if (require.main === module) main();
module.exports = { publishedManifest };
