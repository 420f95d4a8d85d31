/** `jit --version`: the package's version, as a line or as {"version": ...} with --json. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { STDOUT, writeJson, writeOut } from './output.js';

export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

export function printVersion(json: boolean): void {
  const version = packageVersion();
  if (json) writeJson({ version });
  else writeOut(STDOUT, `${version}\n`);
}
