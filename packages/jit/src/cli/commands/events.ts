/** `jit events tail|query`: the append-only log in .jit/events.jsonl. */
import type { Command } from 'commander';
import { JIT_EVENT_TYPES, type JitEvent } from '../../store/core.js';
import { action, type Invocation } from '../context.js';
import { ChunkedOutput, jsonIndent, oneLine, painter, SHORT_ID_LENGTH, shortId, STDOUT, type Paint } from '../output.js';
import { eventTypeOption, integerOption } from '../options.js';

/** Fields every event has; the rest are shown as key=value. */
const COMMON_FIELDS = new Set(['type', 'id', 'issue_id', 'timestamp']);

function eventLine(event: JitEvent, typeWidth: number, paint: Paint): string {
  const extra = Object.entries(event)
    .filter(([key]) => !COMMON_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  const issue = event.issue_id ? shortId(event.issue_id) : '-'.padEnd(SHORT_ID_LENGTH);
  return oneLine(`${paint('dim', event.timestamp)}  ${paint('cyan', issue)}  ${event.type.padEnd(typeWidth)}  ${extra}`).trimEnd();
}

/**
 * Prints events as they come, never the whole list as one string: the same
 * `{"events": [...], "count": N}` document as every list with --json (as
 * JSON.stringify would indent it), one line per event for people.
 */
class EventPrinter {
  private count = 0;
  private readonly out = new ChunkedOutput();
  private readonly paint: Paint;
  /** --json at a terminal: indented, as writeJson writes. */
  private readonly indented: boolean;

  /** `typeWidth`: the type column's width (known up front for a list in memory, the widest type otherwise). */
  constructor(
    private readonly json: boolean,
    // The types this jit writes set the column; the original's longer ones (in a migrated log, and the registry's rare
    // gate_definition_* that this jit writes too) overflow it, so the usual lines stay narrow.
    private readonly typeWidth = Math.max(...JIT_EVENT_TYPES.filter((type) => !type.startsWith('gate_definition_')).map((type) => type.length)),
  ) {
    this.paint = painter(STDOUT);
    this.indented = jsonIndent() !== undefined;
  }

  add(event: JitEvent): void {
    if (this.json && this.indented) this.out.write(`${this.count === 0 ? '{\n  "events": [\n' : ',\n'}${JSON.stringify(event, null, 2).replace(/^/gm, '    ')}`);
    else if (this.json) this.out.write(`${this.count === 0 ? '{"events":[' : ','}${JSON.stringify(event)}`);
    else this.out.write(eventLine(event, this.typeWidth, this.paint) + '\n');
    this.count++;
  }

  end(): void {
    if (this.json && this.indented) this.out.write(`${this.count === 0 ? '{\n  "events": [],' : '\n  ],'}\n  "count": ${this.count}\n}\n`);
    else if (this.json) this.out.write(`${this.count === 0 ? '{"events":[' : ''}],"count":${this.count}}\n`);
    else if (this.count === 0) this.out.write('No events.\n');
    this.out.flush();
  }
}

function printEvents(cli: Invocation, events: readonly JitEvent[]): void {
  const printer = new EventPrinter(cli.json, events.reduce((width, event) => Math.max(width, event.type.length), 0));
  for (const event of events) printer.add(event);
  printer.end();
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
    .description('Events filtered by type and/or issue, oldest first')
    .addOption(eventTypeOption('--type <type>', 'event type, e.g. issue_claimed'))
    .option('--issue <id>', 'issue id or unique prefix')
    .addOption(integerOption('--limit <n>', 'at most this many (the most recent)'))
    .action(
      action(async (cli, options: { type?: string; issue?: string; limit?: number }) => {
        const query = { type: options.type, issueId: options.issue };
        if (options.limit !== undefined) {
          printEvents(cli, await cli.tracker().queryEvents({ ...query, limit: options.limit }));
          return;
        }
        // Streamed from the log to the output: any number of matches in flat memory.
        const printer = new EventPrinter(cli.json);
        await cli.tracker().scanEvents(query, (event) => printer.add(event));
        printer.end();
      }),
    );
}
