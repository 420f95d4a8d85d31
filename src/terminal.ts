import { readFileSync } from 'node:fs';

/**
 * Whether `signal`, received by this process, also reached the child
 * processes it started in its own process group, without it: a terminal
 * sends Ctrl-C's SIGINT and a hang-up's SIGHUP to its whole foreground
 * process group (Windows: to every process on the console). A program that
 * runs a command while holding a lock (jit-lock's CLI) and forwards such a
 * signal would deliver it twice, and a second SIGINT makes many tools
 * (terraform, docker compose, npm) stop at once without cleaning up. On
 * Windows, forwarding would even be TerminateProcess (libuv's kill for
 * SIGINT). SIGTERM and others are sent to one process: always false.
 */
export function signalReachedForegroundGroup(signal: NodeJS.Signals): boolean {
  if (signal !== 'SIGINT' && signal !== 'SIGHUP') return false;
  if (process.platform === 'win32') return true;
  return inForegroundOfTerminal();
}

/** True when this process (and so the children in its group) is in its terminal's foreground process group. */
function inForegroundOfTerminal(): boolean {
  try {
    if (process.platform === 'linux') {
      // /proc/self/stat: after "(comm)": state ppid pgrp session tty_nr tpgid
      const stat = readFileSync('/proc/self/stat', 'utf8');
      const [, , pgrp, , ttyNr, tpgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ttyNr !== '0' && pgrp === tpgid;
    }
    // Loaded here, not at import: importing jit-lock stays cheap (child_process brings diagnostics_channel).
    const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
    const ps = spawnSync('ps', ['-o', 'pgid=,tpgid=', '-p', String(process.pid)], { encoding: 'utf8' });
    const [pgrp, tpgid] = ps.stdout.trim().split(/\s+/);
    return ps.status === 0 && pgrp !== undefined && pgrp === tpgid;
  } catch {
    return false; // cannot tell: forward (a lost signal is worse than a doubled one)
  }
}
