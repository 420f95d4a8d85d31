/**
 * Everything the CLI writes. With --json, stdout carries only the JSON
 * document; without it, aligned text for people. Colour only on a TTY and
 * never when NO_COLOR is set (https://no-color.org).
 */
import { fstatSync, statSync, writeSync, type Stats } from 'node:fs';
import type { Issue, State, IssueSummary, PendingFollowUp } from '../store/core.js';
import type { Invocation } from './context.js';
import { displayWidth } from './text-width.js';

export const SHORT_ID_LENGTH = 8;

export function shortId(id: string): string {
  return id.slice(0, SHORT_ID_LENGTH);
}

/** The CLI's two outputs. */
export const STDOUT = 1;
export const STDERR = 2;
export type OutputFd = typeof STDOUT | typeof STDERR;

/**
 * Whether `fd` is a terminal. Only a character device can be one, so
 * node:tty (which loads Node's stream and net modules, a few milliseconds of
 * every run) is consulted only then, and not for /dev/null, the character
 * device output is most often sent to: piped and redirected output never pays.
 */
export function isTerminal(fd: OutputFd): boolean {
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice() || isDevNull(stat)) return false;
  } catch {
    return false;
  }
  return (require('node:tty') as typeof import('node:tty')).isatty(fd);
}

function isDevNull(stat: Stats): boolean {
  if (process.platform === 'win32') return false; // no /dev/null (NUL is left to node:tty)
  const devNull = statSync('/dev/null', { throwIfNoEntry: false });
  return devNull !== undefined && devNull.rdev === stat.rdev && devNull.ino === stat.ino && devNull.dev === stat.dev;
}

function colourEnabled(fd: OutputFd): boolean {
  const noColor = process.env['NO_COLOR'];
  return (noColor === undefined || noColor === '') && isTerminal(fd);
}

let waitCell: Int32Array | undefined;

/**
 * Writes all of `text` to stdout or stderr before returning, with plain file
 * writes instead of process.stdout (same start-up saving as isTerminal).
 * A full non-blocking pipe (EAGAIN) is waited out 1 ms at a time; a reader
 * that went away (EPIPE, as in `jit query all | head -1`) ends the process
 * quietly with the exit code set so far.
 */
export function writeOut(fd: OutputFd, text: string | Uint8Array): void {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        waitCell ??= new Int32Array(new SharedArrayBuffer(4));
        Atomics.wait(waitCell, 0, 0, 1);
      } else if (code === 'EPIPE') {
        process.exit();
      } else {
        throw error;
      }
    }
  }
}

/**
 * Text written in pieces of about 64 KiB: for output that can be larger
 * than one string may be (a query matching millions of events, a tree drawn
 * very deep). Call flush() at the end.
 */
export class ChunkedOutput {
  private pending = '';

  constructor(private readonly fd: OutputFd = STDOUT) {}

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= 64 * 1024) this.flush();
  }

  flush(): void {
    if (this.pending !== '') writeOut(this.fd, this.pending);
    this.pending = '';
  }
}

type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'magenta' | 'cyan';
const SGR: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  magenta: [35, 39],
  cyan: [36, 39],
};

export type Paint = (style: Style | undefined, text: string) => string;

export function painter(fd: OutputFd): Paint {
  if (!colourEnabled(fd)) return (_style, text) => text;
  return (style, text) => (style ? `\u001b[${SGR[style][0]}m${text}\u001b[${SGR[style][1]}m` : text);
}

const STATE_STYLE: Record<State, Style | undefined> = {
  backlog: undefined,
  ready: 'green',
  in_progress: 'yellow',
  gated: 'magenta',
  done: 'dim',
  rejected: 'red',
  archived: 'dim',
};

export function stateStyle(state: State): Style | undefined {
  return STATE_STYLE[state];
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  style?: (row: Row) => Style | undefined;
}

/**
 * Aligned columns, padded by display width (a CJK character or an emoji takes
 * two terminal columns, see text-width.ts); the last column is not padded so
 * long titles do not leave trailing blanks.
 */
export function renderTable<Row>(rows: readonly Row[], columns: readonly Column<Row>[], paint: Paint): string {
  const last = columns.length - 1;
  // Each cell's text and width once, column by column (a query can print tens of thousands of rows);
  // the last column is never padded, so its widths are never measured.
  const texts = columns.map((column) => rows.map((row) => oneLine(column.value(row))));
  const cellWidths = texts.map((cells, i) => (i === last ? [] : cells.map(displayWidth)));
  const widths = columns.map((column, i) => cellWidths[i]!.reduce((width, cell) => (cell > width ? cell : width), column.header.length));
  const pad = (text: string, width: number, i: number) => (i === last ? text : text + spaces(widths[i]! - width));
  let table = paint('bold', columns.map((column, i) => pad(column.header, column.header.length, i)).join('  ').trimEnd()) + '\n';
  // One string grown line by line: no array of lines and no array of cells per line.
  for (let r = 0; r < rows.length; r++) {
    let line = '';
    for (let i = 0; i <= last; i++) {
      const cell = pad(texts[i]![r]!, i === last ? 0 : cellWidths[i]![r]!, i);
      line += (i === 0 ? '' : '  ') + paint(columns[i]!.style?.(rows[r]!), cell);
    }
    table += line.trimEnd() + '\n';
  }
  return table;
}

const SPACES: string[] = [];

/** `n` spaces, each length made once (a table pads every cell of its columns but the last). */
function spaces(n: number): string {
  return (SPACES[n] ??= ' '.repeat(n));
}

const LINE_BREAK = /[\r\n]/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
/** CONTROL but for the tab: text shown as lines of its own (a description) keeps its indentation. */
const CONTROL_BUT_TAB = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/**
 * Text on one line for a terminal: line breaks become a space, any other
 * control character is shown as \xNN (inert): a title or a context value
 * may come from a file jit did not write (a pull, an editor).
 */
export function oneLine(text: string): string {
  // The test first: the replaces are slow on text that has nothing to replace (nearly every cell).
  if (!CONTROL.test(text)) return text;
  return inert(LINE_BREAK.test(text) ? text.replace(/\s*[\r\n]+\s*/g, ' ') : text);
}

/** One line of a multi-line text (a description, a field) made inert, tabs kept. */
function inertLine(line: string): string {
  return line.replace(CONTROL_BUT_TAB, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * Text jit did not write (a checker's output, a run record that came with a
 * pull) made safe for a terminal: control characters, ESC and C1 included,
 * are shown as \xNN instead of being obeyed (a title change, a cleared screen).
 */
export function inert(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function issueColumns(): Column<IssueSummary>[] {
  return [
    { header: 'ID', value: (issue) => shortId(issue.id), style: () => 'cyan' },
    { header: 'STATE', value: (issue) => issue.state, style: (issue) => stateStyle(issue.state) },
    { header: 'PRIORITY', value: (issue) => issue.priority, style: (issue) => (issue.priority === 'critical' ? 'red' : issue.priority === 'high' ? 'yellow' : undefined) },
    { header: 'ASSIGNEE', value: (issue) => issue.assignee ?? '-' },
    { header: 'TITLE', value: (issue) => issue.title },
  ];
}

export function renderIssueTable(issues: readonly IssueSummary[], paint: Paint, empty = 'No issues.'): string {
  return issues.length === 0 ? `${empty}\n` : renderTable(issues, issueColumns(), paint);
}

/** `key: value` lines with the keys aligned; a value of several lines continues under the first. */
export function renderFields(fields: ReadonlyArray<[string, string]>, paint: Paint): string {
  const width = Math.max(...fields.map(([key]) => key.length)) + 1;
  const indent = '\n' + ' '.repeat(width + 1);
  return fields.map(([key, value]) => `${paint('bold', `${key}:`.padEnd(width))} ${value.split('\n').join(indent)}`).join('\n') + '\n';
}

/** A lease for people: until when, and the agent whose life bounds it. */
function leaseText(lease: NonNullable<Issue['lease']>): string {
  const until = lease.expires_at === null ? 'no time limit' : `until ${lease.expires_at}`;
  return `${lease.holder} since ${lease.acquired_at}, ${until}${lease.agent === null ? '' : `, while agent ${lease.agent} runs`}`;
}

/** An issue as shown: `issue show` adds the result of each gate's last check. */
type ShownIssue = Issue & { last_runs?: Record<string, { status: string; message: string | null }> };

export function renderIssue(issue: ShownIssue, paint: Paint): string {
  const gateLines = issue.gates_required.map((key) => {
    const status = issue.gates_status[key];
    const by = status?.updated_by ? ` by ${status.updated_by}` : '';
    const run = issue.last_runs?.[key];
    return oneLine(`${key} ${status?.status ?? 'pending'}${by}${run ? ` (last check ${run.status}${run.message ? `: ${inert(run.message)}` : ''})` : ''}`);
  });
  // What the file says goes through oneLine (shown, never obeyed: it may come from a pull or an editor); paint comes after.
  const fields: Array<[string, string]> = [
    ['id', paint('cyan', issue.id)],
    ['title', oneLine(issue.title)],
    ['state', paint(stateStyle(issue.state), issue.state)],
    ['priority', issue.priority],
    ['assignee', oneLine(issue.assignee ?? '-')],
    ...(issue.lease ? [['lease', oneLine(leaseText(issue.lease))] as [string, string]] : []),
    ['labels', oneLine(issue.labels.join(', ')) || '-'],
    ['depends on', issue.dependencies.map(shortId).join(', ') || '-'],
    ['gates', gateLines.join(', ') || '-'],
    // One line per key, each value on one line: a value may hold newlines or ", ".
    ['context', Object.entries(issue.context).map(([k, v]) => `${oneLine(k)}=${oneLine(v)}`).join('\n') || '-'],
    ['created', issue.created_at],
    ['updated', issue.updated_at],
  ];
  const description = issue.description ? `\n${issue.description.trimEnd().split('\n').map(inertLine).join('\n')}\n` : '';
  return renderFields(fields, paint) + description;
}

/**
 * --json output: indented for a person at a terminal, on one line for a
 * program (a pipe or a file): a third less to write and for an agent to
 * read, and no indentation to spend time on (printing 26,667 ready issues
 * was 7.5 MB indented, 6.9 MB on one line).
 */
export function writeJson(data: unknown): void {
  writeOut(STDOUT, JSON.stringify(data, null, jsonIndent()) + '\n');
}

let indent: { value: number | undefined } | undefined;

/** How --json indents on this stdout: 2 at a terminal, none otherwise. */
export function jsonIndent(): number | undefined {
  indent ??= { value: isTerminal(STDOUT) ? 2 : undefined };
  return indent.value;
}

/** Lists are `{"issues": [...], "count": N}` in JSON and a table for people. */
export function printIssueList(cli: Invocation, issues: readonly (Issue | IssueSummary)[], empty?: string): void {
  cli.print({ issues, count: issues.length }, (data, paint) => renderIssueTable(data.issues, paint, empty));
}

/**
 * One issue: the stored object in JSON (a change adds `changed`, and
 * `pending` for follow-ups it could not finish), a short confirmation line or
 * the full view for people. A change whose effect already held
 * (`changed: false`) says so instead of claiming to have done it.
 */
export function printIssue(cli: Invocation, issue: ShownIssue & { changed?: boolean; pending?: PendingFollowUp[]; warnings?: { message: string }[] }, summary?: string): void {
  cli.print(issue, (data, paint) => {
    const verb = data.changed === false ? 'No change (already so):' : summary;
    const head = verb === undefined ? renderIssue(data, paint) : `${verb} ${paint('cyan', shortId(data.id))} ${oneLine(data.title)} [${data.state}]\n`;
    const warnings = (data.warnings ?? []).map((w) => `${paint('yellow', `Warning: ${w.message}`)}\n`).join('');
    // store/core.js on use: `jit --version` writes through this module and answers without the store.
    const { pendingNotes } = require('../store/core.js') as typeof import('../store/core.js');
    return head + warnings + pendingNotes(data.pending).map((note) => `${paint('yellow', note)}\n`).join('');
  });
}
