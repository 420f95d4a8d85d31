/**
 * Which checker commands this machine has agreed to run. gates.json is
 * committed to git, so a pull can swap `npm test` for any command while
 * agents run checks unattended: a checker runs only if the hash of its exact
 * definition (gate-defs.ts) is in `.jit/local/trusted-gates.json`, a file
 * git ignores (local/.gitignore), written by `registry add` on this machine
 * and by `jit gate trust KEY` after the user has read the command.
 * JIT_TRUST_ALL_GATES=1 trusts everything (CI, where the checkout is the
 * thing being tested anyway).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { JitError } from './errors.js';
import { createFileIfMissing, makeDirectory, readTextIfExists, writeFileAtomic } from './files.js';
import { LOCAL_DIR, LOCAL_GITIGNORE_TEXT, TRUST_FILE } from './layout.js';
import { fileLocker, RANK } from './locker.js';
import { bare, command, hint } from './suggestions.js';

export const TRUST_ALL_VARIABLE = 'JIT_TRUST_ALL_GATES';

export interface TrustEntry {
  key: string;
  command: string;
  trusted_at: string;
  /** How it came to be trusted: `registry add` or `gate trust`. */
  via: string;
}

interface TrustFile {
  schema_version: 1;
  trusted: Record<string, TrustEntry>;
}

export function trustsAll(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[TRUST_ALL_VARIABLE] === '1';
}

function trustPath(jitDir: string): string {
  return path.join(jitDir, LOCAL_DIR, TRUST_FILE);
}

/**
 * What the trust file says is worth nothing unless this machine wrote it: a
 * file that git tracks (force-added: .gitignore does not stop that) arrives
 * with a pull, and one other users can write is theirs to fill.
 */
function checkLocal(jitDir: string, file: string): void {
  const dir = path.join(jitDir, LOCAL_DIR);
  if (process.platform !== 'win32') {
    for (const target of [file, dir]) {
      const mode = fs.statSync(target).mode;
      if ((mode & 0o002) !== 0) {
        throw notLocal(file, `${target === file ? 'it' : `its folder ${dir}`} can be written by other users (mode ${(mode & 0o777).toString(8)}): anyone could trust a command for you. Make it yours only (chmod o-w ${target})`);
      }
    }
  }
  // The folder is ignored by git; only a forced add makes it tracked. No git, no repository: nothing tracked.
  const tracked = spawnSync('git', ['ls-files', '--error-unmatch', '--', path.join(LOCAL_DIR, TRUST_FILE)], { cwd: jitDir, stdio: 'ignore', windowsHide: true });
  if (tracked.status === 0) {
    throw notLocal(file, `git tracks it, so a pull can change what this machine trusts. Untrack it (git rm --cached ${file}) and commit that; then read each gate's command and trust it again`);
  }
}

function notLocal(file: string, why: string): JitError {
  return new JitError('GATE_UNTRUSTED', `The trust file ${file} is not trusted: ${why}.`, {
    suggestions: [hint`Then ${command('gate.trust', { key: 'KEY' })} after reading the command.`],
    details: { path: file },
  });
}

function readTrust(jitDir: string): TrustFile {
  const file = trustPath(jitDir);
  const text = readTextIfExists(file);
  if (text === null) return { schema_version: 1, trusted: {} };
  checkLocal(jitDir, file);
  try {
    const data = JSON.parse(text) as TrustFile;
    if (typeof data?.trusted !== 'object' || data.trusted === null) throw new Error('no "trusted" object');
    return data;
  } catch (error) {
    throw new JitError('CORRUPT_FILE', `Corrupt file ${file}: ${(error as Error).message}.`, {
      suggestions: [hint`Delete it (it only lists the checker commands this machine trusts), then trust them again (${command('gate.trust', { key: 'KEY' })}).`],
      details: { path: file },
      cause: error,
    });
  }
}

export function isTrusted(jitDir: string, hash: string): boolean {
  return trustsAll() || Object.hasOwn(readTrust(jitDir).trusted, hash);
}

/** Adds a definition hash; false when it was already trusted. */
export async function trust(jitDir: string, hash: string, entry: Omit<TrustEntry, 'trusted_at'>): Promise<boolean> {
  const dir = path.join(jitDir, LOCAL_DIR);
  // Writable by others (umask 000) it would trust nothing (checkLocal): jit makes it the owner's.
  if (makeDirectory(dir) && process.platform !== 'win32') fs.chmodSync(dir, 0o755);
  createFileIfMissing(dir, '.gitignore', LOCAL_GITIGNORE_TEXT);
  const held = await fileLocker.lockAll([{ path: path.join(dir, 'trust.lock'), mode: 'exclusive', rank: RANK.trust }]);
  try {
    const data = readTrust(jitDir);
    if (Object.hasOwn(data.trusted, hash)) return false;
    data.trusted[hash] = { ...entry, trusted_at: new Date().toISOString() };
    writeFileAtomic(dir, TRUST_FILE, JSON.stringify(data, null, 2) + '\n');
    return true;
  } finally {
    held.release();
  }
}

export function untrustedError(key: string, commandText: string, hash: string): JitError {
  return new JitError(
    'GATE_UNTRUSTED',
    `Gate ${key} would run a command this machine has not trusted: ${commandText} -- gates.json may have changed (a pull, a hand edit) since it was defined here. Read the command (and its env and folder); if it is safe, trust it.`,
    {
      suggestions: [bare(command('gate.trust', { key })), bare(command('registry.show', { key }))],
      details: { key, command: commandText, hash },
    },
  );
}
