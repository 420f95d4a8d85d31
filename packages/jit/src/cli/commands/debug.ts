/** `jit debug locks`: every lock file under .jit/, whether it is held now, in which mode and by whom. */
import path from 'node:path';
import type { Command } from 'commander';
import type { LockFileState, LockHolder } from '../../store/core.js';
import { action } from '../context.js';
import { renderTable } from '../output.js';

const holderList = (holders: readonly LockHolder[]) => holders.map((holder) => `${holder.pid} (${holder.mode})`).join(', ') || '-';

export function registerDebugCommands(program: Command): void {
  const debug = program.command('debug').description('Diagnostics for when something seems stuck');

  debug
    .command('locks')
    .description('Every lock file under .jit/: free or held, shared or exclusive, and by which pid (Linux: /proc/locks)')
    .action(
      action((cli) => {
        const jitDir = cli.jitDir();
        const { debugLocks } = require('../../store/index.js') as typeof import('../../store/index.js');
        const locks = debugLocks(jitDir);
        cli.print({ path: jitDir, locks, count: locks.length }, (data, paint) =>
          renderTable<LockFileState>(
            data.locks,
            [
              { header: 'LOCK', value: (lock) => path.relative(jitDir, lock.path) },
              { header: 'STATE', value: (lock) => lock.state, style: (lock) => (lock.state === 'unlocked' ? 'dim' : 'yellow') },
              { header: 'HOLDERS', value: (lock) => (lock.source === 'probe' && lock.state !== 'unlocked' ? 'unknown' : holderList(lock.holders)) },
              { header: 'WAITING', value: (lock) => holderList(lock.waiters) },
            ],
            paint,
          ),
        );
      }),
    );
}
