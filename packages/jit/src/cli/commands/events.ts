/** `jit events tail|query`: the append-only log in .jit/events.jsonl. */
import type { Command } from 'commander';
import type { JitEvent } from '../../store/model.js';
import { action, type Invocation } from '../context.js';
import { oneLine, SHORT_ID_LENGTH, shortId, type Paint } from '../output.js';
import { eventTypeOption, integerOption } from '../options.js';

/** Fields every event has; the rest are shown as key=value. */
const COMMON_FIELDS = new Set(['type', 'id', 'issue_id', 'timestamp']);

function renderEvents(events: readonly JitEvent[], paint: Paint): string {
  if (events.length === 0) return 'No events.\n';
  const typeWidth = events.reduce((width, event) => Math.max(width, event.type.length), 0);
  return events
    .map((event) => {
      const extra = Object.entries(event)
        .filter(([key]) => !COMMON_FIELDS.has(key))
        .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join(' ');
      const issue = event.issue_id ? shortId(event.issue_id) : '-'.padEnd(SHORT_ID_LENGTH);
      return oneLine(`${paint('dim', event.timestamp)}  ${paint('cyan', issue)}  ${event.type.padEnd(typeWidth)}  ${extra}`).trimEnd();
    })
    .join('\n') + '\n';
}

function printEvents(cli: Invocation, events: JitEvent[]): void {
  cli.print({ events, count: events.length }, (data, paint) => renderEvents(data.events, paint));
}

export function registerEventsCommands(program: Command): void {
  const events = program.command('events').description('The event log (who did what, when)');

  events
    .command('tail')
    .description('The most recent events, oldest first')
    .addOption(integerOption('-n, --lines <n>', 'how many events').default(20))
    .action(
      action(async (cli, options: { lines: number }) => {
        printEvents(cli, await cli.tracker().tailEvents(options.lines));
      }),
    );

  events
    .command('query')
    .description('Events filtered by type and/or issue')
    .addOption(eventTypeOption('--type <type>', 'event type, e.g. issue_claimed'))
    .option('--issue <id>', 'issue id or unique prefix')
    .addOption(integerOption('--limit <n>', 'at most this many (the most recent)'))
    .action(
      action(async (cli, options: { type?: string; issue?: string; limit?: number }) => {
        printEvents(cli, await cli.tracker().queryEvents({ type: options.type, issueId: options.issue, limit: options.limit }));
      }),
    );
}
