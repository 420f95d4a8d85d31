/**
 * `jit export` / `jit import`: a whole tracker as one JSON Lines snapshot,
 * from any backend into any other (`.jit/` <-> PostgreSQL), losing nothing:
 * every issue as stored, every gate definition, every event in order with
 * its id and time. A team can keep a snapshot in git and work offline.
 *
 * Line 1 is the header; then one record a line: {"issue": ...},
 * {"gate": ...}, {"event": ...}. Lines, not one document: a large event
 * log streams through in both directions.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { JitError } from './errors.js';
import type { GateDefinition, Issue, JitEvent } from './model.js';
import { parseEventLine, parseGates, parseIssue, SCHEMA_VERSION } from './schema.js';
import type { Storage } from './storage.js';
import { command, hint } from './suggestions.js';

export const SNAPSHOT_FORMAT = 'jit-snapshot';
export const SNAPSHOT_VERSION = 1;
/** Records per import transaction: each is atomic, and none holds more locks than this. */
const IMPORT_BATCH = 200;

export interface TransferReport {
  issues: number;
  gates: number;
  events: number;
}

type SnapshotRecord = { issue: Issue } | { gate: GateDefinition } | { event: JitEvent };

/** Writes `storage` to `file` (a new file; replaced only once complete). */
export async function exportSnapshot(storage: Storage, file: string): Promise<TransferReport> {
  const partial = `${file}.partial-${process.pid}`;
  const out = fs.openSync(partial, 'w');
  const report: TransferReport = { issues: 0, gates: 0, events: 0 };
  const write = (value: unknown): void => void fs.writeSync(out, JSON.stringify(value) + '\n');
  try {
    write({ format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, exported_at: new Date().toISOString(), from: storage.kind });
    for (const issue of await storage.readAllIssues()) (write({ issue }), report.issues++);
    for (const gate of (await storage.readGates()).values()) (write({ gate }), report.gates++);
    await storage.scanEvents({}, (event) => (write({ event }), report.events++));
    fs.fsyncSync(out);
  } catch (error) {
    fs.closeSync(out);
    fs.rmSync(partial, { force: true });
    throw error;
  }
  fs.closeSync(out);
  fs.renameSync(partial, file);
  return report;
}

function badSnapshot(file: string, line: number, what: string): JitError {
  return new JitError('CORRUPT_FILE', `Corrupt snapshot ${file}, line ${line}: ${what}.`, {
    suggestions: ['Export the tracker again; nothing was imported from this file.'],
    details: { path: file, line },
  });
}

/**
 * Loads `file` into `storage`, which must hold no issue, gate or event (an
 * import never merges: that could not be lossless). The file is read once
 * to check it before anything is written.
 */
export async function importSnapshot(storage: Storage, file: string): Promise<TransferReport> {
  const notEmpty = (): JitError =>
    new JitError('ALREADY_EXISTS', `The target tracker (${storage.description}) is not empty: an import only fills an empty one.`, {
      suggestions: [hint`Import into a new store: ${command('init')} in an empty folder, or a new database or schema with ${command('db.init')}.`],
    });
  const [anyIssue] = await storage.summariesByPrefix('', 1);
  if (anyIssue || (await storage.readGates()).size > 0 || (await storage.readEvents({ last: 1 })).length > 0) throw notEmpty();
  const report: TransferReport = { issues: 0, gates: 0, events: 0 };
  await readSnapshot(file, () => undefined); // checks every line first: a bad file writes nothing
  let batch: SnapshotRecord[] = [];
  const flush = async (): Promise<void> => {
    const issues = batch.flatMap((r) => ('issue' in r ? [r.issue] : []));
    const gates = batch.flatMap((r) => ('gate' in r ? [r.gate] : []));
    const events = batch.flatMap((r) => ('event' in r ? [r.event] : []));
    batch = [];
    // Each write checks under its locks that what it adds is not there yet: an import racing another of the same
    // snapshot (both found the tracker empty) waits for the first one's batch, then stops instead of doubling it.
    if (gates.length > 0) {
      await storage.gatesTransaction((registry) => {
        if (gates.some((gate) => registry.has(gate.key))) throw notEmpty();
        for (const gate of gates) registry.set(gate.key, gate);
      });
    }
    if (issues.length > 0 || events.length > 0) {
      await storage.issueTransaction({ write: issues.map((i) => i.id) }, (tx) => {
        if (issues.some((issue) => tx.issue(issue.id) !== null)) throw notEmpty();
        for (const issue of issues) tx.put(issue);
        for (const event of events) tx.event(event);
      });
    }
    report.issues += issues.length;
    report.gates += gates.length;
    report.events += events.length;
  };
  await readSnapshot(file, async (record) => {
    batch.push(record);
    if (batch.length >= IMPORT_BATCH) await flush();
  });
  await flush();
  return report;
}

async function readSnapshot(file: string, visit: (record: SnapshotRecord) => unknown): Promise<void> {
  let stream: fs.ReadStream;
  try {
    fs.accessSync(file, fs.constants.R_OK);
    stream = fs.createReadStream(file, { encoding: 'utf8' });
  } catch (error) {
    throw new JitError('INVALID_ARGUMENT', `Cannot read snapshot ${file}: ${(error as Error).message}.`, { details: { path: file }, cause: error });
  }
  let line = 0;
  const issueIds = new Set<string>();
  const gateKeys = new Set<string>();
  let headerSeen = false;
  for await (const text of readline.createInterface({ input: stream, crlfDelay: Infinity })) {
    line++;
    if (text.trim() === '') continue;
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw badSnapshot(file, line, 'not JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badSnapshot(file, line, 'not a JSON object');
    if (!headerSeen) {
      headerSeen = true;
      if (value['format'] !== SNAPSHOT_FORMAT) throw badSnapshot(file, line, `not a jit snapshot (no "format": "${SNAPSHOT_FORMAT}" header)`);
      if (typeof value['version'] !== 'number' || value['version'] > SNAPSHOT_VERSION) {
        throw new JitError('UNSUPPORTED_SCHEMA', `Snapshot ${file} is version ${String(value['version'])}; this jit reads up to ${SNAPSHOT_VERSION}.`, {
          suggestions: ['Upgrade jit to import it.'],
          details: { path: file },
        });
      }
      continue;
    }
    // A snapshot bypasses the rules every change passes: each record is checked as the store's own files are
    // (an issue id is a UUID, never a path), NUL is refused (jit never writes it; PostgreSQL text cannot hold it),
    // and an issue or gate twice could not be imported without losing one.
    if (hasNul(value)) throw badSnapshot(file, line, 'it holds a NUL character');
    const record = value as Partial<{ issue: unknown; gate: { key?: unknown }; event: unknown }>;
    const checked = <T>(what: string, check: () => T): T => {
      try {
        return check();
      } catch (error) {
        throw badSnapshot(file, line, `not a valid ${what} (${(error as Error).message.replace(/^Corrupt file [^:]*: /, '').replace(/\.$/, '')})`);
      }
    };
    const once = (seen: Set<string>, key: string, what: string): void => {
      if (seen.has(key)) throw badSnapshot(file, line, `${what} ${key} a second time`);
      seen.add(key);
    };
    if (record.issue !== undefined) {
      const issue = checked('issue', () => parseIssue(JSON.stringify(record.issue), 'issue'));
      once(issueIds, issue.id, 'issue');
      await visit({ issue });
    } else if (record.gate !== undefined && typeof record.gate.key === 'string') {
      const key = record.gate.key;
      const gate = checked('gate', () => parseGates(JSON.stringify({ schema_version: SCHEMA_VERSION, gates: { [key]: record.gate } }), 'gate').gates[key]!);
      once(gateKeys, key, 'gate');
      await visit({ gate });
    } else if (record.event !== undefined) {
      const event = parseEventLine(JSON.stringify(record.event));
      if (!event) throw badSnapshot(file, line, 'not a valid event');
      await visit({ event });
    } else throw badSnapshot(file, line, 'neither an issue, a gate nor an event');
  }
  if (!headerSeen) throw badSnapshot(file, 1, 'empty');
}

/** Whether a parsed JSON value holds a NUL character in any string or key. */
function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, entry]) => key.includes('\u0000') || hasNul(entry));
}
