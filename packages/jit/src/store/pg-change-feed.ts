/**
 * The change feed on PostgreSQL (`jit serve`): the file store's feed
 * watches events.jsonl; here events are rows, so the database's own signal
 * drives it. Every transaction that inserts events also runs
 * `pg_notify('jit_events', '<schema> <first seq> <last seq>')`
 * (pg-storage.ts insertEvents); PostgreSQL delivers it only after COMMIT.
 * The feed LISTENs on a connection of its own and reads just those rows.
 *
 * Why the range and not "seq > the last seen": seq comes from a sequence
 * when the row is inserted, so two transactions can commit out of seq order
 * (seq 11 visible before seq 10); a reader that moved past 11 would never see
 * 10. Notifications come in commit order, each naming its own rows; rows of
 * a concurrent transaction that fall in a range and were already reported
 * are skipped by seq.
 *
 * Backed by a cheap check every `pollMs` (two index look-ups: max(seq), and
 * whether the last row seen is still there): rows written without a
 * notification are read, and rows that vanished (the schema re-created, the
 * table emptied) mean a reset; so do rows of another events table than the
 * one the feed started on (a re-created table numbers its rows from 1 again). A lost connection is reconnected; whatever
 * happened meanwhile is unknown, so that is a reset too.
 */
import type * as PgModule from 'pg';
import type { ChangeBatch, ChangeFeedOptions, ChangeListener, ChangeSource } from './change-feed.js';
import type { JitEvent } from './model.js';

/** One channel for every schema: a channel name is an identifier (63 bytes), the schema is in the payload. */
export const EVENTS_CHANNEL = 'jit_events';

/** Rows read per query: a huge import is read in pages. */
const PAGE = 1000;
/** Reported seqs kept for skipping overlaps; only concurrent transactions' ranges overlap, so the recent ones suffice. */
const REMEMBERED = 10_000;
/** The longest wait between reconnect attempts. */
const MAX_RECONNECT_MS = 10_000;

type Client = PgModule.Client;

export class PgChangeFeed implements ChangeSource {
  private readonly listeners = new Set<ChangeListener>();
  private readonly pollMs: number;
  private client: Client | undefined;
  /** The highest seq reported (or present when the feed started): rows above it are new. */
  private lastSeq = 0;
  /**
   * The events table's oid: a table created anew (the schema dropped, `jit db init`) starts its seqs over, so its rows
   * could carry seqs already reported; they are told apart by the table they are in.
   */
  private table = '';
  private readonly reported = new Set<number>();
  /** Queries on the one connection, one after another, in the order their notifications came. */
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private reconnectMs = 0;
  private reconnecting = false;
  private closed = false;

  constructor(
    private readonly connect: () => Promise<Client>,
    private readonly schema: string,
    options: ChangeFeedOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 5000;
  }

  /** Listens from the log's current end: only later events are reported. Rejects when the database cannot be reached. */
  async start(): Promise<this> {
    await this.open();
    this.timer = setInterval(() => this.enqueue((client) => this.check(client)), this.pollMs);
    this.timer.unref();
    return this;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.listeners.clear();
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => undefined);
  }

  /** Connects, LISTENs, and takes the log's end as the point to report from. */
  private async open(): Promise<void> {
    const client = await this.connect();
    // Notifications that arrive meanwhile wait for the starting point, then read their rows.
    let opened!: () => void;
    const starting = new Promise<void>((resolve) => (opened = resolve));
    this.queue = this.queue.then(() => starting);
    try {
      client.on('notification', (message) => this.notified(message));
      client.on('end', () => this.lost(client));
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
      // After LISTEN: a commit from here on is notified, one before it is inside max(seq).
      const { rows } = await client.query<{ max: string | null; table: string }>(`SELECT max(seq) AS max, 'events'::regclass::oid::text AS table FROM events`);
      if (this.closed) throw new Error('closed');
      this.lastSeq = Number(rows[0]!.max ?? 0);
      this.table = rows[0]!.table;
      this.reported.clear();
      this.client = client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    } finally {
      opened();
    }
  }

  private notified(message: PgModule.Notification): void {
    const [schema, first, last] = (message.payload ?? '').split(' ');
    if (message.channel !== EVENTS_CHANNEL || schema !== this.schema) return;
    const from = Number(first);
    const to = Number(last);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) return;
    this.enqueue((client) => this.read(client, from - 1, to));
  }

  /** The fallback: rows nobody notified of (a writer without NOTIFY), and rows that vanished. */
  private async check(client: Client): Promise<void> {
    const { rows } = await client.query<{ max: string | null; present: boolean; table: string }>(
      `SELECT (SELECT max(seq) FROM events) AS max, EXISTS (SELECT 1 FROM events WHERE seq = $1) AS present, 'events'::regclass::oid::text AS table`,
      [this.lastSeq],
    );
    const max = Number(rows[0]!.max ?? 0);
    if (rows[0]!.table !== this.table) {
      this.table = rows[0]!.table;
      return this.reset(max);
    }
    if ((this.lastSeq > 0 && !rows[0]!.present) || max < this.lastSeq) return this.reset(max);
    if (max > this.lastSeq) await this.read(client, this.lastSeq, max);
  }

  /** Reports the rows with `after` < seq <= `upTo`, a page at a time (a huge import stays in bounded memory). */
  private async read(client: Client, after: number, upTo: number): Promise<void> {
    for (;;) {
      const { rows } = await client.query<{ seq: string; event: JitEvent; table: string }>(
        `SELECT seq, event, tableoid::text AS table FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT ${PAGE}`,
        [after, upTo],
      );
      // Rows of another events table than the one seen so far: the log was replaced (check resets).
      if (rows.some((row) => row.table !== this.table)) return this.check(client);
      this.report(rows.map((row) => ({ seq: Number(row.seq), event: row.event })));
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  private report(rows: readonly { seq: number; event: JitEvent }[]): void {
    const events: JitEvent[] = [];
    for (const { seq, event } of rows) {
      if (this.reported.has(seq)) continue;
      this.reported.add(seq);
      if (seq > this.lastSeq) this.lastSeq = seq;
      events.push(event);
    }
    // Sets iterate in insertion order, which is about seq order: the oldest go first.
    for (const seq of this.reported) {
      if (this.reported.size <= REMEMBERED) break;
      this.reported.delete(seq);
    }
    if (events.length > 0) this.emit({ events, reset: false });
  }

  private reset(max: number): void {
    this.lastSeq = max;
    this.reported.clear();
    this.emit({ events: [], reset: true });
  }

  /** Runs `task` on the connection after the ones before it; a failure drops the connection (and reconnects). */
  private enqueue(task: (client: Client) => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      const client = this.client;
      if (this.closed || !client) return;
      try {
        await task(client);
      } catch {
        this.lost(client);
      }
    });
  }

  /** The connection broke (or a query on it failed): drop it and connect again. */
  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      while (!this.closed && !this.client) {
        await new Promise((resolve) => setTimeout(resolve, this.reconnectMs).unref());
        this.reconnectMs = Math.min(MAX_RECONNECT_MS, Math.max(250, this.reconnectMs * 2));
        if (this.closed) return;
        try {
          await this.open();
        } catch {
          continue; // still unreachable: try again later
        }
        this.reconnectMs = 0;
        // Notifications sent while no one listened are gone: the listeners read everything again.
        if (!this.closed) this.emit({ events: [], reset: true });
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private emit(batch: ChangeBatch): void {
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch {
        // A listener's failure is its own: the other listeners still hear of the change.
      }
    }
  }
}
