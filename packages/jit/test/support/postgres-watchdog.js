// Stops the tests' PostgreSQL server (test/support/postgres-server.mts) once the vitest process that started it is
// gone: a vitest run that is killed (SIGKILL, SIGTERM) never runs its global teardown, and the server would outlive
// it. Started by the global setup as its own child, in a session of its own (a signal to vitest's process group
// does not take it along); it notices its parent is gone when it is re-parented (process.ppid changes), which a
// recycled pid cannot fake. The normal teardown stops the server itself and then ends this watchdog.
//
// usage: node postgres-watchdog.js <folder> <record file> <pg_ctl> [<user to run pg_ctl as>]
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const [folder, record, pgCtl, asUser] = process.argv.slice(2);
const parent = process.ppid;
const POLL_MS = 500;

function stopServer() {
  const argv = [pgCtl, '-D', path.join(folder, 'data'), '-m', 'immediate', '-w', 'stop'];
  const [file, ...args] = asUser ? ['runuser', '-u', asUser, '--', ...argv] : argv;
  spawnSync(file, args, { stdio: 'ignore', timeout: 60_000 });
  fs.rmSync(folder, { recursive: true, force: true });
  fs.rmSync(record, { force: true });
}

const timer = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(timer);
  stopServer();
}, POLL_MS);
