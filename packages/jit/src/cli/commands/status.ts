/** `jit status`: counts by state plus how much is claimable and how much is blocked. */
import type { Command } from 'commander';
import { STATES } from '../../store/core.js';
import { action, type Invocation } from '../context.js';
import { renderFields, stateStyle } from '../output.js';

/** The action; main.ts also runs it directly, without commander (see its fast path). */
export async function showStatus(cli: Invocation): Promise<void> {
  const tracker = cli.tracker();
  const report = { ...(await tracker.status()), backend: tracker.backend().kind };
  cli.print(report, (data, paint) => {
    const width = String(data.total).length;
    const count = (n: number) => String(n).padStart(width);
    return renderFields(
      [
        ...STATES.map((state): [string, string] => [state, paint(data.by_state[state] ? stateStyle(state) : 'dim', count(data.by_state[state] ?? 0))]),
        ['total', count(data.total)],
        ['claimable', `${count(data.ready)}  (ready, unassigned, dependencies done${data.lapsed_claims ? `; ${data.lapsed_claims} of them lapsed claims` : ''})`],
        ['blocked', `${count(data.blocked)}  (see \`jit query blocked\`)`],
        ['backend', tracker.backend().description],
      ],
      paint,
    );
  });
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Issue counts by state, claimable (ready) and blocked totals; reads only the index')
    .action(action(showStatus));
}
