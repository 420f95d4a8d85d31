// scripts/pack.js: the published jit-tracker names jit-lock by version, not by
// the repository path it links in development. (test/package/pack-install.sh
// installs the real tarballs.)
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const { publishedManifest } = createRequire(import.meta.url)('./pack.js');
const repo = path.resolve('/repo');
const toolkit = { name: 'jit-lock', version: '1.2.3', dir: repo };
const trackerDir = path.join(repo, 'packages', 'jit');

describe('publishedManifest', () => {
  it('turns the file: link to the toolkit into a range on its version, and drops development-only fields', () => {
    const manifest = {
      name: 'jit-tracker',
      version: '1.2.3',
      scripts: { prepare: 'tsc -b', test: 'vitest run' },
      dependencies: { commander: '^14.0.3', 'jit-lock': 'file:../..' },
      devDependencies: { vitest: '^4.1.12' },
    };
    expect(publishedManifest(manifest, trackerDir, [toolkit])).toEqual({
      name: 'jit-tracker',
      version: '1.2.3',
      dependencies: { commander: '^14.0.3', 'jit-lock': '^1.2.3' },
    });
    expect(manifest.dependencies['jit-lock']).toBe('file:../..'); // the input is left alone
  });

  it('names a package the CLI bundle holds by the exact version it was built with, local or from the registry', () => {
    const manifest = {
      name: 'jit-tracker',
      version: '1.2.3',
      dependencies: { commander: '^14.0.3', 'jit-lock': 'file:../..', libsql: '^0.5.29' },
    };
    const built = new Map([['jit-lock', '1.2.3'], ['libsql', '0.5.31']]);
    expect(publishedManifest(manifest, trackerDir, [toolkit], built).dependencies).toEqual({
      commander: '^14.0.3',
      'jit-lock': '1.2.3',
      libsql: '0.5.31',
    });
  });

  it('keeps install scripts', () => {
    const manifest = { name: 'x', version: '1.0.0', scripts: { install: 'node-gyp-build', build: 'tsc' } };
    expect(publishedManifest(manifest, trackerDir, [toolkit]).scripts).toEqual({ install: 'node-gyp-build' });
  });

  it('refuses a file: dependency that is not a package of the repository', () => {
    const elsewhere = { name: 'jit-tracker', version: '1.0.0', dependencies: { 'jit-lock': 'file:../other' } };
    expect(() => publishedManifest(elsewhere, trackerDir, [toolkit])).toThrow(/dependencies.jit-lock is "file:..\/other"/);
  });
});

describe("jit-lock's tarball", () => {
  it('holds what an install runs and builds, and no tests, source maps or build leftovers', () => {
    const root = path.resolve(import.meta.dirname, '..');
    const { execFileSync } = createRequire(import.meta.url)('node:child_process');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const [packed] = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' }));
    const files = packed.files.map((f) => f.path);
    const allowed = /^(README\.md|LICENSE|package\.json|binding\.gyp|bin\/jit-lock\.js|docs\/lock-api\.md|dist\/[\w-]+\.(js|d\.ts)|native\/[\w-]+\.(cc|h|txt)|native\/package\.json|prebuilds\/.+\.node)$/;
    expect(files.filter((file) => !allowed.test(file))).toEqual([]);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((file) => /test/.test(file))).toEqual([]);
  });
});
