// The jit-lock command (a portable flock(1)) with real processes: exit
// status pass-through, signals, --nonblock and --timeout against holders in
// other processes, util-linux flock(1) included.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli.js';
import { tryLock } from '../../src/index.js';
import { perTestSandbox } from './helpers.js';

const sandbox = perTestSandbox();
const { children } = sandbox;
const BIN = path.resolve(__dirname, '..', '..', 'bin', 'jit-lock.js');
const file = (name: string): string => path.join(sandbox.dir, name);
const posix = process.platform !== 'win32';

/** `node -e SCRIPT` as the command to run. */
const nodeCommand = (script: string): string[] => [process.execPath, '-e', script];

interface Run {
  process: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** Resolves once the output contains `text`. */
  saw(text: string): Promise<void>;
}

/** `detached`: a session of its own, away from any terminal the tests run in (which would get SIGINT and SIGHUP itself). */
function start(args: string[], options: { detached?: boolean } = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  let out = '';
  const waiting: Array<() => void> = [];
  const onData = (chunk: Buffer): void => {
    out += chunk.toString('utf8');
    for (const wake of waiting.splice(0)) wake();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'exit', not 'close': a command that outlives jit-lock keeps its stdout open.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    exited,
    output: () => out,
    async saw(text) {
      while (!out.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`jit-lock ended before printing ${JSON.stringify(text)}: ${out}`);
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

function run(args: string[], cwd?: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, cwd });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** True while some process holds the lock (our tryLock is refused). */
function lockedElsewhere(lockPath: string): boolean {
  const held = tryLock(lockPath);
  held?.release();
  return held === null;
}

describe('jit-lock FILE -- COMMAND', () => {
  it('runs the command with the lock held and passes its exit status through', () => {
    const lockPath = file('status.lock');
    // The command checks from inside: a lock of its own on the file is refused.
    const check = `const { tryLock } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'dist', 'index.js'))});
      process.exit(tryLock(${JSON.stringify(lockPath)}) === null ? 7 : 99);`;
    expect(run([lockPath, '--', ...nodeCommand(check)])).toEqual({ status: 7, output: '' });
    expect(run([lockPath, '--', ...nodeCommand('process.exit(0)')]).status).toBe(0);
    expect(lockedElsewhere(lockPath)).toBe(false); // released after the command
  });

  it('also without "--", and with -c through the shell', () => {
    const lockPath = file('forms.lock');
    expect(run([lockPath, ...nodeCommand('process.exit(3)')]).status).toBe(3);
    expect(run(['-c', 'exit 4', lockPath]).status).toBe(4);
    expect(run([lockPath, '-c', 'exit 5']).status).toBe(5);
  });

  it.runIf(posix)('a command killed by a signal: 128 + n, and the lock is released', () => {
    const lockPath = file('killed.lock');
    expect(run([lockPath, '--', ...nodeCommand("process.kill(process.pid, 'SIGKILL')")]).status).toBe(128 + 9);
    expect(run([lockPath, '--', ...nodeCommand("process.kill(process.pid, 'SIGTERM')")]).status).toBe(128 + 15);
    expect(lockedElsewhere(lockPath)).toBe(false);
  });

  it.runIf(posix)('forwards SIGTERM, SIGINT and SIGHUP to the command', async () => {
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      const lockPath = file(`forward-${signal}.lock`);
      const script = `process.on('${signal}', () => { console.log('got ${signal}'); process.exit(42); });
        console.log('running'); setInterval(() => {}, 1000);`;
      const wrapper = start([lockPath, '--', ...nodeCommand(script)], { detached: true });
      await wrapper.saw('running');
      expect(lockedElsewhere(lockPath)).toBe(true);
      wrapper.process.kill(signal);
      await wrapper.saw(`got ${signal}`);
      expect(await wrapper.exited).toEqual({ code: 42, signal: null });
      expect(lockedElsewhere(lockPath)).toBe(false);
    }
  });

  it.runIf(posix)('a command that ignores SIGTERM keeps the lock until it ends; killed, it releases it', async () => {
    const lockPath = file('stubborn.lock');
    const script = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('pid ' + process.pid); setInterval(() => {}, 1000);";
    const wrapper = start([lockPath, '--', ...nodeCommand(script)]);
    await wrapper.saw('pid ');
    const pid = Number(/pid (\d+)/.exec(wrapper.output())![1]);
    wrapper.process.kill('SIGTERM');
    await wrapper.saw('ignoring SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(wrapper.process.exitCode).toBeNull(); // jit-lock waits for its command
    expect(lockedElsewhere(lockPath)).toBe(true);
    process.kill(pid, 'SIGKILL');
    expect(await wrapper.exited).toEqual({ code: 128 + 9, signal: null });
    expect(lockedElsewhere(lockPath)).toBe(false);
  });

  it.runIf(posix)('killed itself with SIGKILL, jit-lock leaves the lock with its running command (fd 3), as flock(1) does', async () => {
    const lockPath = file('orphan.lock');
    const script = "console.log('pid ' + process.pid); setInterval(() => {}, 1000);";
    const wrapper = start([lockPath, '--', ...nodeCommand(script)]);
    await wrapper.saw('pid ');
    const pid = Number(/pid (\d+)/.exec(wrapper.output())![1]);
    try {
      wrapper.process.kill('SIGKILL');
      await wrapper.exited;
      expect(lockedElsewhere(lockPath)).toBe(true); // the command still runs, so it still holds the lock
    } finally {
      process.kill(pid, 'SIGKILL');
    }
    for (let i = 0; i < 100 && lockedElsewhere(lockPath); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lockedElsewhere(lockPath)).toBe(false);
  });

  it.runIf(process.platform === 'linux')('the lock is released when the command ends, even while a process it left in the background keeps fd 3', () => {
    // flock(1) would leave the lock with that process until it ends (its -o avoids it); jit-lock unlocks explicitly.
    const lockPath = file('background.lock');
    const pidFile = file('background.pid');
    expect(run([lockPath, '-c', `sleep 60 >/dev/null 2>&1 & echo $! > '${pidFile}'`]).status).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    try {
      expect(fs.readlinkSync(`/proc/${pid}/fd/3`)).toBe(lockPath); // it does keep the descriptor
      expect(lockedElsewhere(lockPath)).toBe(false);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('shared locks run side by side and keep an exclusive one out', async () => {
    const lockPath = file('shared.lock');
    const hold = "console.log('holding'); setTimeout(() => {}, 60000);";
    const first = start(['--shared', lockPath, '--', ...nodeCommand(hold)]);
    const second = start(['-s', lockPath, '--', ...nodeCommand(hold)]);
    try {
      await first.saw('holding');
      await second.saw('holding');
      expect(run(['--nonblock', lockPath, '--', ...nodeCommand('process.exit(0)')]).status).toBe(EXIT.busy);
      expect(run(['-n', '-s', lockPath, '--', ...nodeCommand('process.exit(0)')]).status).toBe(0);
    } finally {
      first.process.kill('SIGKILL');
      second.process.kill('SIGKILL');
    }
  });
  it.runIf(process.platform === 'linux')(
    'Ctrl-C in a terminal reaches the command once, as with flock(1) (the terminal signals the whole foreground group)',
    async () => {
      // A second SIGINT makes many tools (terraform, docker compose, npm) stop at once without cleaning up.
      const lockPath = file('terminal.lock');
      const script = `let n = 0; process.on('SIGINT', () => { n++; process.stdout.write('got SIGINT ' + n + '\\n');
        setTimeout(() => process.exit(10 + n), 1000); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
      const command = [process.execPath, BIN, lockPath, '--', ...nodeCommand(script)].map((word) => `'${word.replace(/'/g, "'\\''")}'`).join(' ');
      // Two SIGINTs that arrive together count as one (signals do not queue), so a few rounds.
      for (let round = 0; round < 3; round++) {
        // script(1) runs it on a pseudo-terminal of its own; ^C written to it is the terminal's interrupt.
        // `exec`: a shell that stayed (dash does, for -c) would itself be killed by the ^C and end script with 130.
        const terminal = spawn('script', ['-qfec', `exec ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        terminal.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        const exited = new Promise<number | null>((resolve) => terminal.once('exit', (code) => resolve(code)));
        for (let i = 0; i < 2400 && !out.includes('ready'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
        terminal.stdin.write('\x03');
        expect({ round, status: await exited, out }).toEqual({ round, status: 11, out: expect.stringContaining('got SIGINT 1') });
        expect(lockedElsewhere(lockPath)).toBe(false);
      }
    },
  );

  it.runIf(posix)('a signal at the moment the lock is granted never leaves the command running unsignalled with the lock', async () => {
    const lockPath = file('granted.lock');
    const pidFile = file('command.pid');
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const command = nodeCommand(`require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
      process.on('SIGTERM', () => process.exit(3)); setInterval(() => {}, 1000);`);
    for (let round = 0; round < 12; round++) {
      fs.rmSync(pidFile, { force: true });
      const held = tryLock(lockPath)!;
      const waiter = start(['--timeout', '120', lockPath, '--', ...command]);
      const blocked = new RegExp(`-> .*:${fs.statSync(lockPath).ino} `);
      if (process.platform === 'linux') {
        for (let i = 0; i < 400 && !blocked.test(fs.readFileSync('/proc/locks', 'utf8')); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      } else {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      // Release, then signal without pause through the hand-off and the command's start.
      held.release();
      const end = performance.now() + 40;
      while (performance.now() < end && waiter.process.exitCode === null && waiter.process.signalCode === null) {
        try {
          process.kill(waiter.process.pid!, 'SIGTERM');
        } catch {
          break; // gone
        }
      }
      await waiter.exited;
      const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8')) : undefined;
      for (let i = 0; i < 100 && pid !== undefined && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      const orphan = pid !== undefined && alive(pid);
      if (orphan) process.kill(pid, 'SIGKILL');
      expect({ round, orphan }).toEqual({ round, orphan: false }); // it ran and got the signal, or never ran
      for (let i = 0; i < 100 && lockedElsewhere(lockPath); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(lockedElsewhere(lockPath)).toBe(false);
    }
  });
});

describe('jit-lock --nonblock and --timeout against other holders', () => {
  it('--nonblock against a jit-lock holder in another process: busy, and the command never runs', async () => {
    const lockPath = file('busy.lock');
    const holder = await children.start();
    await holder.must({ op: 'lockSync', path: lockPath });
    const marker = file('ran');
    const busy = run(['--nonblock', lockPath, '--', ...nodeCommand(`require('fs').writeFileSync(${JSON.stringify(marker)}, '')`)]);
    expect(busy.status).toBe(EXIT.busy);
    expect(busy.output).toMatch(/is locked by another process \(busy\)/);
    expect(fs.existsSync(marker)).toBe(false);
    expect(run(['-n', '-E', '1', lockPath, '--', ...nodeCommand('0')]).status).toBe(1); // flock(1)'s code
    await holder.must({ op: 'release', path: lockPath });
    expect(run(['-n', lockPath, '--', ...nodeCommand('process.exit(0)')]).status).toBe(0);
  });

  it('--timeout: timed out after about that long; the lock released in time: the command runs', async () => {
    const lockPath = file('timeout.lock');
    const holder = await children.start();
    await holder.must({ op: 'lockSync', path: lockPath });
    const started = performance.now();
    const late = run(['--timeout', '0.3', lockPath, '--', ...nodeCommand('process.exit(0)')]);
    expect(late.status).toBe(EXIT.timedOut);
    expect(late.output).toMatch(/timed out after 0\.3 s/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(run(['-w', '0.1', '-E', '9', lockPath, '--', ...nodeCommand('0')]).status).toBe(9);
    const waiter = start(['--timeout=120', lockPath, '--', ...nodeCommand('process.exit(6)')]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await holder.must({ op: 'release', path: lockPath });
    expect(await waiter.exited).toEqual({ code: 6, signal: null });
  });

  it.runIf(process.platform === 'linux')('a signal while it waits ends the wait (128 + n) and the command never runs', async () => {
    const lockPath = file('interrupted.lock');
    const holder = await children.start();
    await holder.must({ op: 'lockSync', path: lockPath });
    const marker = file('ran');
    const waiter = start([lockPath, '--', ...nodeCommand(`require('fs').writeFileSync(${JSON.stringify(marker)}, '')`)]);
    const blocked = new RegExp(`-> .*:${fs.statSync(lockPath).ino} `); // a request waiting on this file
    for (let i = 0; i < 400 && !blocked.test(fs.readFileSync('/proc/locks', 'utf8')); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25)); // until its wait is in the kernel
    }
    waiter.process.kill('SIGINT');
    expect(await waiter.exited).toEqual({ code: 128 + 2, signal: null });
    expect(fs.existsSync(marker)).toBe(false);
  });

  describe.runIf(process.platform === 'linux')('and util-linux flock(1)', () => {
    it('a `flock FILE sleep` holder makes jit-lock --nonblock busy; jit-lock\'s lock makes `flock -n` fail', async () => {
      const lockPath = file('util-linux.lock');
      fs.writeFileSync(lockPath, '');
      // Its own process group: flock(1) hands the lock to sleep, so both must go.
      const flockHolder = spawn('flock', [lockPath, 'sleep', '60'], { stdio: 'ignore', detached: true });
      const gone = new Promise((resolve) => flockHolder.once('exit', resolve));
      try {
        for (let i = 0; i < 200 && !lockedElsewhere(lockPath); i++) await new Promise((resolve) => setTimeout(resolve, 25));
        expect(run(['--nonblock', lockPath, '--', ...nodeCommand('0')]).status).toBe(EXIT.busy);
        expect(run(['--timeout', '0.2', lockPath, '--', ...nodeCommand('0')]).status).toBe(EXIT.timedOut);
      } finally {
        process.kill(-flockHolder.pid!, 'SIGKILL');
      }
      await gone;
      for (let i = 0; i < 200 && lockedElsewhere(lockPath); i++) await new Promise((resolve) => setTimeout(resolve, 25));
      const wrapper = start([lockPath, '--', ...nodeCommand("console.log('holding'); setTimeout(() => {}, 60000);")]);
      try {
        await wrapper.saw('holding');
        expect(spawnSync('flock', ['-n', lockPath, 'true']).status).toBe(1);
        expect(spawnSync('flock', ['-n', '-s', lockPath, 'true']).status).toBe(1);
      } finally {
        wrapper.process.kill('SIGTERM');
      }
      expect(await wrapper.exited).toEqual({ code: 128 + 15, signal: null });
      expect(spawnSync('flock', ['-n', lockPath, 'true']).status).toBe(0);
    });
  });
});

describe('jit-lock errors', () => {
  it('usage errors exit 64 and say what to do', () => {
    for (const args of [[], ['--timeout'], ['--timeout', 'soon', 'f', 'true'], ['-E', '300', 'f', 'true'], ['--bogus', 'f', 'true'], [file('x.lock')], [file('x.lock'), '--']]) {
      const result = run(args);
      expect(result.status, JSON.stringify(args)).toBe(EXIT.usage);
      expect(result.output).toMatch(/^jit-lock: .*\nTry 'jit-lock --help'\.\n$/);
    }
    expect(run(['--help'])).toMatchObject({ status: 0, output: expect.stringContaining('Exit status:') });
    expect(run(['--version']).output).toMatch(/^jit-lock \d+\.\d+\.\d+/);
  });

  it("takes flock(1)'s short forms: grouped flags (-sn) and attached values (-w5, -E1)", async () => {
    const lockPath = file('short-forms.lock');
    expect(run(['-sn', lockPath, '--', ...nodeCommand('process.exit(3)')]).status).toBe(3);
    const holder = await children.start();
    await holder.must({ op: 'lockSync', path: lockPath });
    expect(run(['-nE1', lockPath, '--', ...nodeCommand('0')]).status).toBe(1);
    expect(run(['-w0.1', '-E', '9', lockPath, '--', ...nodeCommand('0')]).status).toBe(9);
    expect(run(['-xw0.1', lockPath, '--', ...nodeCommand('0')]).status).toBe(EXIT.timedOut);
    expect(run(['-sq', lockPath, '--', ...nodeCommand('0')])).toMatchObject({ status: EXIT.usage, output: expect.stringContaining('unknown option -q') });
    await holder.must({ op: 'release', path: lockPath });
    expect(run([lockPath, '-cexit 4']).status).toBe(4);
  });

  it("a FILE that starts with '-' follows '--', as in flock(1)", () => {
    const dashed = path.join(sandbox.dir, '-dashed.lock');
    expect(run(['--', '-dashed.lock', ...nodeCommand('process.exit(5)')], sandbox.dir).status).toBe(5);
    expect(run(['-n', '--', '-dashed.lock', '--', ...nodeCommand('process.exit(6)')], sandbox.dir).status).toBe(6);
    expect(fs.existsSync(dashed)).toBe(true);
    expect(run(['--'])).toMatchObject({ status: EXIT.usage, output: expect.stringContaining('missing FILE') });
  });

  it('a command that does not exist: 127; a lock file that cannot be opened: 66', () => {
    expect(run([file('missing-command.lock'), '--', 'jit-lock-no-such-command'])).toMatchObject({ status: EXIT.notFound, output: expect.stringContaining('command not found') });
    const unopenable = run([file('no-such-dir/x.lock'), '--', ...nodeCommand('0')]);
    expect(unopenable.status).toBe(EXIT.noInput);
    expect(unopenable.output).toMatch(/cannot lock .*ENOENT/);
    const folder = file('a-folder');
    fs.mkdirSync(folder);
    expect(run([folder, '--', ...nodeCommand('0')])).toEqual({
      status: EXIT.noInput,
      output: expect.stringContaining(`locks files only: lock a file such as ${path.join(folder, '.lock')} instead`),
    });
  });
});
