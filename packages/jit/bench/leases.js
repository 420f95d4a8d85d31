#!/usr/bin/env node
// `npm run bench:leases`: how soon the claim of a killed agent is someone
// else's. Each round an agent started by `jit agent run` claims an issue
// (bound to its life) and idles; the bench SIGKILLs it and at once asks for
// the issue again, until it gets it:
// - in-process: Tracker.claimNext in this process (the store's own cost:
//   the kernel's release, the lock probe, the lapsed-claim read and write),
//   next to a claimNext of an ordinary ready issue;
// - cli: `jit issue claim-next` processes, next to a claim-next of an
//   ordinary ready issue (the command's own start-up and work) measured in
//   the same rounds: the difference is what liveness adds.
// Median and max of BENCH_RUNS rounds (default 10), with `node -e 0`.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdtempSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const RUNS = Number(process.env.BENCH_RUNS || 10);
const root = path.resolve(__dirname, '..');
const jitBin = path.join(root, 'bin', 'jit.js');
const { initJit, openTracker } = require(path.join(root, 'dist', 'store', 'index.js'));

const ms = (from) => Number(process.hrtime.bigint() - from) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const env = { ...process.env, JIT_LOCK_TIMEOUT: '120' };
delete env.JIT_AGENT_ID;
delete env.JIT_DIR;

async function sleep(msToWait) {
  await new Promise((resolve) => setTimeout(resolve, msToWait));
}

/** `jit agent run` whose command claims `id` and idles; resolves once the claim is made. */
async function startAgent(dir, agentId, id) {
  const flag = path.join(dir, `${agentId.replace(':', '-')}.claimed`);
  rmSync(flag, { force: true });
  const script = `"$0" "$1" issue claim "$2" >/dev/null && echo $$ > "${flag}" && exec sleep 600`;
  const agent = spawn(process.execPath, [jitBin, 'agent', 'run', '--id', agentId, '--', 'sh', '-c', script, process.execPath, jitBin, id], { cwd: dir, env, stdio: 'ignore' });
  while (!existsSync(flag)) {
    if (agent.exitCode !== null) throw new Error(`the agent exited ${agent.exitCode} before it claimed`);
    await sleep(10);
  }
  await sleep(20); // the pid line is written
  return { agent, commandPid: Number(require('node:fs').readFileSync(flag, 'utf8').trim()) };
}

function stop(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function cliClaimNext(dir, who) {
  const result = spawnSync(process.execPath, [jitBin, '--json', 'issue', 'claim-next', who], { cwd: dir, env, encoding: 'utf8' });
  return result.status === 0 ? JSON.parse(result.stdout).id : null;
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jit-bench-leases-'));
  try {
    const { path: jitDir } = initJit(dir);
    const tracker = openTracker(jitDir);
    const nodeStart = [];
    const inProcess = [];
    const inProcessBaseline = [];
    const teardown = [];
    const claimAfterFree = [];
    const cli = [];
    const cliBaseline = [];
    const tries = [];
    const cliTries = [];
    for (let round = 0; round < RUNS; round++) {
      let started = process.hrtime.bigint();
      spawnSync(process.execPath, ['-e', '0']);
      nodeStart.push(ms(started));

      // In-process: kill, then claim-next until the issue is ours.
      const first = await tracker.createIssue({ title: `in-process ${round}`, priority: 'critical' });
      const a = await startAgent(dir, 'agent:bench-a', first.id);
      started = process.hrtime.bigint();
      a.agent.kill('SIGKILL');
      // The kernel's part: until the lock probe sees the agent gone (kill() only sends the signal).
      let probes = 0;
      while (tracker.storage.isAgentLive('agent:bench-a')) probes++;
      teardown.push(ms(started));
      const freed = process.hrtime.bigint();
      const got = await tracker.claimNext('agent:bench-b');
      if (got.id !== first.id) throw new Error(`claimed ${got.id}, not the killed agent's issue`);
      claimAfterFree.push(ms(freed));
      inProcess.push(ms(started));
      tries.push(probes);
      stop(a.commandPid);
      await tracker.updateIssue(first.id, { state: 'done' });

      // CLI: the same through `jit issue claim-next` processes.
      const second = await tracker.createIssue({ title: `cli ${round}`, priority: 'critical' });
      const b = await startAgent(dir, 'agent:bench-c', second.id);
      started = process.hrtime.bigint();
      b.agent.kill('SIGKILL');
      let cliAttempts = 0;
      for (;;) {
        cliAttempts++;
        const got = cliClaimNext(dir, 'agent:bench-d');
        if (got === second.id) break;
        if (got) throw new Error(`claimed ${got}, not the killed agent's issue`);
      }
      cli.push(ms(started));
      cliTries.push(cliAttempts);
      stop(b.commandPid);
      await tracker.updateIssue(second.id, { state: 'done' });

      // Baselines: claim-next of an ordinary ready issue, no lapsed claim anywhere.
      const plain = await tracker.createIssue({ title: `in-process baseline ${round}`, priority: 'critical' });
      started = process.hrtime.bigint();
      if ((await tracker.claimNext('agent:bench-b')).id !== plain.id) throw new Error('the baseline claimNext missed its issue');
      inProcessBaseline.push(ms(started));
      await tracker.updateIssue(plain.id, { state: 'done' });
      const third = await tracker.createIssue({ title: `baseline ${round}`, priority: 'critical' });
      started = process.hrtime.bigint();
      if (cliClaimNext(dir, 'agent:bench-d') !== third.id) throw new Error('the baseline claim-next missed its issue');
      cliBaseline.push(ms(started));
      await tracker.updateIssue(third.id, { state: 'done' });
    }
    const row = (name, xs) => `${name.padEnd(44)} median ${median(xs).toFixed(1).padStart(7)} ms   max ${Math.max(...xs).toFixed(1).padStart(7)} ms`;
    console.log(`kill -> re-claim, ${RUNS} rounds (${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)})`);
    console.log(row('node -e 0', nodeStart));
    console.log(row('in-process: SIGKILL -> claimed', inProcess));
    console.log(row('  of which: SIGKILL -> lock seen free', teardown) + `   (probes: median ${median(tries)})`);
    console.log(row('  of which: lock free -> claimNext returns', claimAfterFree));
    console.log(row('in-process claimNext of a ready issue', inProcessBaseline));
    console.log(row('jit issue claim-next after SIGKILL', cli) + `   (processes: max ${Math.max(...cliTries)})`);
    console.log(row('jit issue claim-next of a ready issue', cliBaseline));
    console.log(`liveness adds (median after kill - median baseline): in-process ${(median(inProcess) - median(inProcessBaseline)).toFixed(1)} ms, cli ${(median(cli) - median(cliBaseline)).toFixed(1)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
