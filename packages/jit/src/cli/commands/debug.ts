/**
 * `jit debug locks`: every lock file under .jit/, whether it is held now, in
 * which mode and by whom; with --stats, the lock figures of the `jit mcp`
 * servers running on this store.
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { LockFileState, LockHolder } from '../../store/core.js';
import type { LockStatsSnapshot } from '../../store/lock-stats.js';
import { action } from '../context.js';
import { renderTable, type Paint } from '../output.js';

const holderList = (holders: readonly LockHolder[]) => holders.map((holder) => `${holder.pid} (${holder.mode})`).join(', ') || '-';

export function registerDebugCommands(program: Command): void {
  const debug = program.command('debug').description('Diagnostics for when something seems stuck');

  debug
    .command('locks')
    .description('Every lock file under .jit/: free or held, shared or exclusive, and by which pid (Linux: /proc/locks)')
    .option('--stats', 'also the lock figures (taken, waited, timed out; wait percentiles) of the `jit mcp` servers running on this store')
    .action(
      action((cli, options: { stats?: boolean }) => {
        const jitDir = cli.jitDir();
        const { debugLocks } = require('../../store/index.js') as typeof import('../../store/index.js');
        const locks = debugLocks(jitDir);
        const stats = options.stats ? (require('../../store/lock-stats.js') as typeof import('../../store/lock-stats.js')).readSnapshots(jitDir) : undefined;
        cli.print({ path: jitDir, locks, count: locks.length, ...(stats && { stats }) }, (data, paint) => {
          const table = renderTable<LockFileState>(
            data.locks,
            [
              { header: 'LOCK', value: (lock) => path.relative(jitDir, lock.path) },
              { header: 'STATE', value: (lock) => lock.state, style: (lock) => (lock.state === 'unlocked' ? 'dim' : 'yellow') },
              { header: 'HOLDERS', value: (lock) => (lock.source === 'probe' && lock.state !== 'unlocked' ? 'unknown' : holderList(lock.holders)) },
              { header: 'WAITING', value: (lock) => holderList(lock.waiters) },
            ],
            paint,
          );
          return stats ? `${table}\n${statsText(stats, paint)}` : table;
        });
      }),
    );
}

type Figures = LockStatsSnapshot['locks'][number] & { pid: number };

function statsText(snapshots: readonly LockStatsSnapshot[], paint: Paint): string {
  if (snapshots.length === 0) return 'Lock figures: no `jit mcp` server is running on this store (each keeps its own while it runs).\n';
  const rows: Figures[] = snapshots.flatMap((snapshot) => snapshot.locks.map((lock) => ({ ...lock, pid: snapshot.pid })));
  const since = snapshots.map((snapshot) => `${snapshot.pid} since ${snapshot.since}`).join(', ');
  return (
    `Lock figures of the running jit mcp servers (${since}):\n` +
    renderTable<Figures>(
      rows,
      [
        { header: 'LOCK', value: (row) => row.lock },
        { header: 'PID', value: (row) => String(row.pid) },
        { header: 'TAKEN', value: (row) => String(row.acquired) },
        { header: 'WAITED', value: (row) => String(row.contended) },
        { header: 'TIMEOUTS', value: (row) => String(row.timeouts), style: (row) => (row.timeouts > 0 ? 'yellow' : 'dim') },
        { header: 'WAIT MS p50/p90/p99/max', value: (row) => [row.wait_ms.p50, row.wait_ms.p90, row.wait_ms.p99, row.wait_ms.max].join('/') },
      ],
      paint,
    )
  );
}
