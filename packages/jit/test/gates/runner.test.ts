// The checker runner with real child processes: exit codes, a timeout that
// ends the whole process group (a grandchild included), a command that does
// not exist, megabytes of output (only the tail kept, the whole in the log),
// the issue on standard input.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OUTPUT_TAIL_BYTES, runChecker, type CheckerSpec } from '../../src/store/gate-runner.js';

const dir = mkdtempSync(path.join(tmpdir(), 'jit-runner-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const node = JSON.stringify(process.execPath);
const spec = (command: string, extra: Partial<CheckerSpec> = {}): CheckerSpec => ({ command, cwd: dir, env: { ...process.env }, timeoutMs: 60_000, ...extra });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0): read its state where /proc tells it.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function gone(pid: number, withinMs = 30_000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !alive(pid);
}

describe.concurrent('runChecker', () => {
  it('exit 0 passes, anything else fails with its exit code; output is stdout and stderr together', async () => {
    const pass = await runChecker(spec(`${node} -e "console.log('out'); console.error('err')"`));
    expect(pass).toMatchObject({ passed: true, reason: 'exit', exit_code: 0, signal: null, output_truncated: false });
    expect(pass.output).toContain('out');
    expect(pass.output).toContain('err');
    const fail = await runChecker(spec(`${node} -e "process.exit(3)"`));
    expect(fail).toMatchObject({ passed: false, reason: 'exit', exit_code: 3 });
  });

  it.skipIf(process.platform === 'win32')('a timeout kills the whole group: the grandchild is gone afterwards', async () => {
    // The checker starts a grandchild that would sleep for minutes, prints its pid, then waits itself.
    const script = path.join(dir, 'grandchild.js');
    require('node:fs').writeFileSync(
      script,
      `const { spawn } = require('node:child_process');
       const g = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
       console.log('grandchild ' + g.pid);
       setTimeout(() => {}, 600000);`,
    );
    const outcome = await runChecker(spec(`${node} ${JSON.stringify(script)}`, { timeoutMs: 1_500 }));
    expect(outcome).toMatchObject({ passed: false, reason: 'timeout' });
    const grandchild = Number(/grandchild (\d+)/.exec(outcome.output)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    expect(await gone(grandchild)).toBe(true);
    expect(await gone(outcome.pid!)).toBe(true);
  });

  it.skipIf(process.platform === 'win32')('a child left running after the checker exits is ended with it', async () => {
    const outcome = await runChecker(spec(`${node} -e "const g = require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' }); g.unref(); console.log('left ' + g.pid)"`));
    expect(outcome).toMatchObject({ passed: true, reason: 'exit' });
    expect(await gone(Number(/left (\d+)/.exec(outcome.output)?.[1]))).toBe(true);
  });

  it('a command that does not exist fails with reason not_found', async () => {
    const outcome = await runChecker(spec('jit-no-such-checker-command --flag'));
    expect(outcome.passed).toBe(false);
    expect(outcome.reason).toBe(process.platform === 'win32' ? 'exit' : 'not_found');
    expect(outcome.output).toMatch(/not found|not recognized/);
  });

  it('a missing working directory fails (spawn error), it does not throw', async () => {
    const outcome = await runChecker(spec(`${node} -e 0`, { cwd: path.join(dir, 'missing') }));
    expect(outcome.passed).toBe(false);
    expect(['not_found', 'spawn_error']).toContain(outcome.reason);
  });

  it('megabytes of output: the record keeps the last 64 KiB, the log file all of it', async () => {
    const logPath = path.join(dir, 'big.log');
    // 4 MiB of numbered lines, then a last line.
    const outcome = await runChecker(
      spec(`${node} -e "const line = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 4096; i++) process.stdout.write(line); process.stdout.write('THE END\\n')"`, { logPath }),
    );
    expect(outcome).toMatchObject({ passed: true, output_truncated: true });
    expect(outcome.output_bytes).toBe(4096 * 1024 + 8);
    expect(Buffer.byteLength(outcome.output)).toBeLessThanOrEqual(OUTPUT_TAIL_BYTES);
    expect(Buffer.byteLength(outcome.output)).toBeGreaterThan(OUTPUT_TAIL_BYTES - 4);
    expect(outcome.output.endsWith('THE END\n')).toBe(true);
    expect(readFileSync(logPath).length).toBe(4096 * 1024 + 8);
  });

  it('stdin carries what the caller gives (the issue, for pass_context)', async () => {
    const outcome = await runChecker(
      spec(`${node} -e "let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => { const x = JSON.parse(s); process.exit(x.ok ? 0 : 1) })"`, {
        stdin: JSON.stringify({ ok: true }),
      }),
    );
    expect(outcome.passed).toBe(true);
  });
});
