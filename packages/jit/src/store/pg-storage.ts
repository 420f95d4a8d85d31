/**
 * Storage on PostgreSQL (issue 17): one shared tracker for agents on several
 * machines, with the same rules as the `.jit/` store. Selected by
 * JIT_DATABASE_URL or `[storage] url` in `.jit/config.toml` (pg-config.ts).
 *
 * Transactions: one SQL transaction per operation (nothing is ever written in
 * part). Issues a transaction changes are locked `FOR UPDATE`, those it reads
 * `FOR SHARE`, in id order; graph changes first take a transaction-level
 * advisory lock, so two `dep add`s can never both pass their cycle checks;
 * the gate registry has an advisory lock of its own (shared by transactions
 * that read it). JIT_LOCK_TIMEOUT becomes `lock_timeout`; its expiry is the
 * same LOCK_TIMEOUT as on files. Deadlocks and serialization failures are
 * retried here, with the whole transaction.
 *
 * The Storage callbacks are synchronous: the locked rows are read before the
 * callback runs, and its writes sent after it returns. A graph callback may
 * ask for any issue's summary or dependents: a lookup not read yet stops the
 * callback (GraphMiss), the rows are fetched (the issue's whole upstream in
 * one recursive query), and the callback runs again from the start, its
 * buffered writes dropped; callbacks are pure over their tx, so this is safe.
 *
 * The driver (`pg`, ~100 ms to import) is required on first use only.
 */
import { randomUUID } from 'node:crypto';
import type * as PgModule from 'pg';
import { JitError } from './errors.js';
import type { GateDefinition, Issue, JitEvent } from './model.js';
import { TERMINAL_STATES } from './model.js';
import { PRIORITY_RANK } from './rules.js';
import { summarize } from './schema.js';
import { lockTimeoutMs, LOCK_TIMEOUT_VARIABLE } from './lock-timeout.js';
import { MIGRATIONS, MIN_SERVER_VERSION_NUM, PG_SCHEMA_VERSION } from './pg-schema.js';
import { command, hint } from './suggestions.js';
import type { BlockedCandidate, EventFilter, FollowUp, GraphLookup, GraphTx, HeldClaims, IssueLocks, IssueTx, LabelNamespace, LabelValue, ReadyQuery, Storage, StorageCheck, SummariesPage, SummaryFilter, SummaryPage } from './storage.js';
import { activeLease } from './leases.js';
import { CONFIG_FILE, readStoreConfig, type StoreConfig } from './config.js';
import type { ChangeFeedOptions, ChangeSource } from './change-feed.js';
import { EVENTS_CHANNEL, PgChangeFeed } from './pg-change-feed.js';
import type { IssueSummary, JsonList, StatusReport } from './tracker-api.js';
import { jsonList } from './queries.js';
import type { AgentRecord } from './agents.js';
import { STATES, type State } from './model.js';

type Client = PgModule.PoolClient;
type Queryable = Pick<PgModule.PoolClient, 'query'>;

/** The PostgreSQL schema (namespace) jit's tables live in unless told otherwise. */
export const DEFAULT_PG_SCHEMA = 'jit';

// Advisory lock keys (one 64-bit space per database): "jit" in the high bits, then the lock's number.
const GRAPH_LOCK = '7595380000000001';
const GATES_LOCK = '7595380000000002';
const SCHEMA_LOCK = '7595380000000003';

/** Attempts of one transaction that lost to a deadlock or a serialization conflict before giving up. */
const MAX_ATTEMPTS = 30;
/** How long a new connection may wait for the server's answer when PGCONNECT_TIMEOUT does not say. */
const DEFAULT_CONNECT_TIMEOUT_SECONDS = 30;

/**
 * The connect timeout in ms (0: none): PGCONNECT_TIMEOUT in seconds, as libpq reads it (0 waits forever), else 30 s.
 * Without one, a server that accepts the connection and never answers (a hung server, a wrong port) hangs jit.
 */
export function connectTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['PGCONNECT_TIMEOUT']?.trim();
  const seconds = raw === undefined || raw === '' || !Number.isFinite(Number(raw)) ? DEFAULT_CONNECT_TIMEOUT_SECONDS : Number(raw);
  return Math.max(0, Math.ceil(seconds * 1000));
}
const SCAN_PAGE = 1000;
const TERMINAL_SQL = `(${TERMINAL_STATES.map((s) => `'${s}'`).join(', ')})`;
/**
 * An issue's unfinished dependency exists (`i` is the issue). The CASE skips the look-up for the many issues
 * without dependencies, and keeps the planner from turning `NOT EXISTS` into an anti join over every ready
 * issue: ready work then walks the issues_ready index in order and stops at its LIMIT (10,000 issues: 50 ms -> 0.3 ms).
 */
const WAITS = `(CASE WHEN cardinality(i.dependencies) = 0 THEN false ELSE EXISTS (SELECT 1 FROM issues d WHERE d.id = ANY (i.dependencies) AND d.state NOT IN ${TERMINAL_SQL}) END)`;

export interface PgStorageOptions {
  /** The PostgreSQL schema jit's tables live in (default `jit`). */
  schema?: string;
  /** The `.jit/` folder whose config.toml chose this database, if any (gate checks run relative to its project). */
  jitDir?: string;
  /** Passed to the driver's pool (TLS, connection limits...). */
  pool?: PgModule.PoolConfig;
}

export interface SchemaStatus {
  schema: string;
  /** null: no jit schema in the database yet. */
  version: number | null;
  supported: number;
}

/**
 * A connection URL parsed as the driver reads it: pg-connection-string also takes `user@/db` (no host: the
 * socket of `?host=`, or localhost), which WHATWG URL refuses. Undefined when neither parses.
 */
export function parseDatabaseUrl(url: string): URL | undefined {
  for (const candidate of [url, url.replace('@/', '@localhost/')]) {
    try {
      return new URL(candidate);
    } catch {
      // try the next form
    }
  }
  return undefined;
}

/** Query parameters the driver reads as secrets (pg-connection-string): `?password=` works like `:password@`. */
const SECRET_PARAMETERS = ['password', 'sslpassword'];

/** Whether a parsed connection URL carries a password, before the @ or in its query. */
export function urlHasPassword(parsed: URL): boolean {
  return parsed.password !== '' || SECRET_PARAMETERS.some((name) => parsed.searchParams.has(name));
}

/** A connection URL as messages show it: never the password. */
export function redactUrl(url: string): string {
  const parsed = parseDatabaseUrl(url);
  if (!parsed) return '(unparsable URL)';
  if (parsed.password) parsed.password = '***';
  for (const name of SECRET_PARAMETERS) if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***');
  return parsed.toString();
}

export function checkDatabaseUrl(url: string, source: string): string {
  const parsed = parseDatabaseUrl(url);
  if (!parsed || (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')) {
    throw new JitError('INVALID_DATABASE_URL', `${source} is not a PostgreSQL URL: it must look like postgres://user@host:5432/database.`, {
      suggestions: [`Fix ${source} (postgres://USER@HOST:PORT/DATABASE; the password from PGPASSWORD or ~/.pgpass), or unset it to use the .jit/ folder.`],
      details: { source },
    });
  }
  return url;
}

const ISSUE_COLUMNS = 'id, state, priority_rank, assignee, labels, dependencies, created_at, lease_expires_at, lease_agent, summary, issue';

function issueRow(issue: Issue): unknown[] {
  const summary = summarize(issue);
  return [
    issue.id,
    issue.state,
    PRIORITY_RANK[issue.priority],
    issue.assignee,
    issue.labels,
    issue.dependencies,
    issue.created_at,
    summary.lease_expires_at ?? null,
    summary.lease_agent ?? null,
    JSON.stringify(summary),
    JSON.stringify(issue),
  ];
}

/** A graph callback asked for something not read yet: fetch it and run the callback again. */
class GraphMiss {
  constructor(
    readonly kind: 'summary' | 'dependents' | 'issues',
    readonly id: string,
  ) {}
}

/** The graph as a graph transaction reads it, under the graph lock: filled on demand (see GraphMiss). */
class GraphCache implements GraphLookup {
  private readonly summaries = new Map<string, IssueSummary | undefined>();
  private readonly dependents = new Map<string, string[]>();

  summary(id: string): IssueSummary | undefined {
    if (!this.summaries.has(id)) throw new GraphMiss('summary', id);
    return this.summaries.get(id);
  }

  dependentsOf(id: string): string[] {
    const found = this.dependents.get(id);
    if (!found) throw new GraphMiss('dependents', id);
    return [...found];
  }

  async fetch(db: Queryable, miss: GraphMiss): Promise<void> {
    if (miss.kind === 'dependents') {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM issues WHERE dependencies @> ARRAY[$1::text] ORDER BY id', [miss.id]);
      this.dependents.set(
        miss.id,
        rows.map((r) => r.id),
      );
      return;
    }
    // A walk that asks for one summary goes on upstream: read all of it in one query.
    const { rows } = await db.query<{ id: string; summary: IssueSummary | null }>(
      `WITH RECURSIVE up(id) AS (
         SELECT $1::text COLLATE "C"
         UNION SELECT unnest(i.dependencies) FROM issues i JOIN up ON i.id = up.id)
       SELECT up.id, i.summary FROM up LEFT JOIN issues i ON i.id = up.id`,
      [miss.id],
    );
    for (const row of rows) this.summaries.set(row.id, row.summary ?? undefined);
  }
}

/** What a Storage callback threw: passes through the transaction as it is (the Tracker's own signals included). */
class CallbackError {
  constructor(readonly error: unknown) {}
}

/** Calls a Storage callback, marking what it throws as its own (GraphMiss excepted: it asks for more rows). */
function callback<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw error instanceof GraphMiss ? error : new CallbackError(error);
  }
}

/** Runs a synchronous callback over data read on demand: a GraphMiss fetches and runs it again. */
async function untilComplete<T>(run: () => T, fetch: (miss: GraphMiss) => Promise<void>): Promise<T> {
  for (;;) {
    try {
      return run();
    } catch (error) {
      if (!(error instanceof GraphMiss)) throw error;
      await fetch(error);
    }
  }
}

interface PgError {
  code?: string;
  message?: string;
  severity?: string;
}

function isRetryable(error: unknown): boolean {
  const code = (error as PgError).code;
  return code === '40P01' || code === '40001';
}

/** A transaction told not to wait (`wait: false`) found rows another one holds: the same error as on files. */
function busy(ids: readonly string[]): JitError {
  return new JitError('LOCK_TIMEOUT', `Issue ${ids.join(', ')} is being written by another process right now.`, {
    suggestions: ['Retry: nothing was changed.'],
    details: { ids: [...ids], timeout_ms: 0 },
  });
}

const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT', 'EPIPE']);

export class PgStorage implements Storage {
  readonly description: string;
  readonly kind = 'postgres';
  readonly jitDir: string | undefined;
  readonly schema: string;
  private readonly url: string;
  private readonly poolConfig: PgModule.PoolConfig;
  private pool: PgModule.Pool | undefined;
  private checked: Promise<void> | undefined;

  constructor(url: string, options: PgStorageOptions = {}) {
    this.url = url;
    this.schema = options.schema ?? DEFAULT_PG_SCHEMA;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.schema)) {
      throw new JitError('INVALID_ARGUMENT', `Schema name ${JSON.stringify(this.schema)} is not a plain PostgreSQL identifier (lower-case letters, digits, _).`);
    }
    this.jitDir = options.jitDir;
    this.poolConfig = options.pool ?? {};
    this.description = `PostgreSQL at ${redactUrl(url)} (schema ${this.schema})`;
  }

  /** Closes the connections (a CLI process exits without it: idle connections do not hold it). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.checked = undefined;
    await pool?.end();
  }

  /** Drops jit's schema and everything in it, then closes (tests, and tearing a tracker down). */
  async dropSchema(): Promise<void> {
    try {
      await this.connectPool().query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    } catch (error) {
      throw this.databaseError(error);
    } finally {
      await this.close();
    }
  }

  // ------------------------------------------------------------ connection

  private connectPool(): PgModule.Pool {
    if (this.pool) return this.pool;
    const pg = require('pg') as typeof PgModule;
    const connectionTimeoutMillis = connectTimeoutMs();
    // Not the pool's connectionTimeoutMillis: that also bounds the wait for a free connection, which a transaction
    // waiting for a lock holds for up to JIT_LOCK_TIMEOUT. Only the connect itself is bounded.
    class TimedClient extends pg.Client {
      constructor(config?: PgModule.ClientConfig) {
        super({ ...config, connectionTimeoutMillis });
      }
    }
    const pool = new pg.Pool({
      Client: TimedClient,
      connectionString: this.url,
      max: 4,
      // A CLI call ends when its work does: idle connections do not keep the process alive.
      allowExitOnIdle: true,
      idleTimeoutMillis: 10_000,
      application_name: 'jit',
      options: `-c search_path=${this.schema}`,
      ...this.poolConfig,
    });
    // A connection that breaks while idle in the pool: the next query reports it; here it must not crash the process.
    pool.on('error', () => undefined);
    // One that breaks while checked out (a transaction's, cut by a restart or pg_terminate_backend) rejects its query,
    // which reports it; its 'error' event has no listener of the pool's then, and unheard it would crash the process.
    pool.on('connect', (client) => void client.on('error', () => undefined));
    this.pool = pool;
    return pool;
  }

  private async client(): Promise<Client> {
    try {
      return await this.connectPool().connect();
    } catch (error) {
      throw this.databaseError(error);
    }
  }

  /** The schema's version as the database has it (no check, no change). */
  async schemaStatus(): Promise<SchemaStatus> {
    const client = await this.client();
    try {
      return { schema: this.schema, version: await this.readVersion(client), supported: PG_SCHEMA_VERSION };
    } catch (error) {
      throw this.databaseError(error);
    } finally {
      client.release();
    }
  }

  private async readVersion(db: Queryable): Promise<number | null> {
    const exists = await db.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${this.schema}.jit_meta`]);
    if (!exists.rows[0]!.present) return null;
    const { rows } = await db.query<{ value: string }>(`SELECT value FROM jit_meta WHERE key = 'schema_version'`);
    return rows.length === 0 ? null : Number(rows[0]!.value);
  }

  private async checkServer(db: Queryable): Promise<void> {
    const { rows } = await db.query<{ version: string; text: string }>(`SELECT current_setting('server_version_num') AS version, current_setting('server_version') AS text`);
    if (Number(rows[0]!.version) < MIN_SERVER_VERSION_NUM) {
      throw new JitError('DATABASE_ERROR', `The PostgreSQL server is version ${rows[0]!.text}: jit needs ${MIN_SERVER_VERSION_NUM / 10000} or newer.`, {
        suggestions: ['Use a newer PostgreSQL server, or unset JIT_DATABASE_URL to keep the tracker in .jit/.'],
        details: { server_version: rows[0]!.text },
      });
    }
  }

  /**
   * Creates the schema, or brings an older one up to this jit's version
   * (`jit db init`, `jit db migrate`). Safe from several processes at once.
   */
  async migrate(options: { create: boolean }): Promise<{ from: number | null; to: number }> {
    const client = await this.client();
    try {
      await this.checkServer(client);
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      const from = await this.readVersion(client);
      if (from === null && !options.create) throw this.notInitialized();
      if (from !== null && from > PG_SCHEMA_VERSION) throw this.newerSchema(from);
      if (from === null) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      for (let version = from ?? 0; version < PG_SCHEMA_VERSION; version++) await client.query(MIGRATIONS[version]!);
      await client.query(`INSERT INTO jit_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [String(PG_SCHEMA_VERSION)]);
      await client.query('COMMIT');
      this.checked = Promise.resolve();
      return { from, to: PG_SCHEMA_VERSION };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.databaseError(error);
    } finally {
      client.release();
    }
  }

  private notInitialized(): JitError {
    return new JitError('NOT_INITIALIZED', `No jit schema "${this.schema}" in the database at ${redactUrl(this.url)}.`, {
      suggestions: [hint`Create it with ${command('db.init')} (once per database).`],
      details: { schema: this.schema },
    });
  }

  private newerSchema(version: number): JitError {
    return new JitError('UNSUPPORTED_SCHEMA', `The database's jit schema is version ${version}; this jit supports up to ${PG_SCHEMA_VERSION}.`, {
      suggestions: ['Upgrade jit (npm install -g jit-tracker@latest) on this machine: another one has upgraded the database.'],
      details: { schema_version: version, supported: PG_SCHEMA_VERSION },
    });
  }

  /** Checked once per process, on first use: the server's version and the schema's. */
  private ready(): Promise<void> {
    this.checked ??= (async () => {
      const client = await this.client();
      try {
        await this.checkServer(client);
        const version = await this.readVersion(client);
        if (version === null) throw this.notInitialized();
        if (version > PG_SCHEMA_VERSION) throw this.newerSchema(version);
        if (version < PG_SCHEMA_VERSION) {
          throw new JitError('UNSUPPORTED_SCHEMA', `The database's jit schema is version ${version}, older than this jit's ${PG_SCHEMA_VERSION}.`, {
            suggestions: [hint`Upgrade it with ${command('db.migrate')}.`],
            details: { schema_version: version, supported: PG_SCHEMA_VERSION },
          });
        }
      } catch (error) {
        throw this.databaseError(error);
      } finally {
        client.release();
      }
    })();
    this.checked.catch(() => (this.checked = undefined));
    return this.checked;
  }

  /** A driver or server failure as the JitError the faces show; JitErrors pass through. */
  private databaseError(error: unknown): JitError {
    if (error instanceof JitError) return error;
    const { code, message = String(error) } = error as PgError;
    const where = redactUrl(this.url);
    const details = { database: where, ...(code ? { sqlstate: code } : {}) };
    if (code === '55P03') {
      const timeoutMs = lockTimeoutMs();
      return new JitError('LOCK_TIMEOUT', `Lock timeout: another jit held the rows this change needs for ${Number((timeoutMs / 1000).toFixed(3))}s.`, {
        suggestions: [
          'Wait a moment and retry: another process is probably still working with these issues. Nothing was changed.',
          `Raise the timeout: ${LOCK_TIMEOUT_VARIABLE}=<seconds>.`,
        ],
        details: { ...details, timeout_ms: timeoutMs },
        cause: error,
      });
    }
    // The driver reads the files the URL names (sslcert, sslkey, sslrootcert) before connecting: the URL is wrong.
    const { syscall, path: file } = error as { syscall?: string; path?: string };
    if (syscall === 'open' && file !== undefined) {
      return new JitError('INVALID_DATABASE_URL', `Cannot read ${file}, which the database URL names: ${message}.`, {
        suggestions: ['Fix the file path in the URL (sslcert, sslkey, sslrootcert), or the file\'s permissions.'],
        details: { ...details, path: file },
        cause: error,
      });
    }
    if ((code !== undefined && UNREACHABLE_ERRNOS.has(code)) || code?.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || /Connection terminated|connect ETIMEDOUT|timeout expired/i.test(message)) {
      return new JitError('DATABASE_UNREACHABLE', `Cannot reach the PostgreSQL server at ${where}: ${message}. A transaction cut off is rolled back by the server, never half-applied.`, {
        suggestions: [
          'Check that the server runs and the URL is right, then retry (a connection lost while committing may have committed: check the issue first).',
          'Or unset JIT_DATABASE_URL to use the .jit/ folder.',
        ],
        details,
        cause: error,
      });
    }
    if (code === '28P01' || code === '28000' || code === '42501' || /password authentication failed|SASL|no password/i.test(message)) {
      return new JitError('DATABASE_AUTH_FAILED', `The PostgreSQL server at ${where} refused: ${message}.`, {
        suggestions: ['Check the user and the password (PGPASSWORD or ~/.pgpass; never put it in .jit/), and the role\'s privileges (docs/postgres.md).'],
        details,
        cause: error,
      });
    }
    if (code === '3D000') {
      return new JitError('DATABASE_NOT_FOUND', `No such database at ${where}: ${message}.`, {
        suggestions: [hint`Create it (createdb NAME, or CREATE DATABASE), then run ${command('db.init')}.`],
        details,
        cause: error,
      });
    }
    return new JitError('DATABASE_ERROR', `PostgreSQL error at ${where}: ${message}${code ? ` (SQLSTATE ${code})` : ''}.`, {
      suggestions: ['Retry; if it persists, check the server log. Nothing was written.'],
      details,
      cause: error,
    });
  }

  /** A read on a pooled connection. */
  private async read<R extends PgModule.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    await this.ready();
    try {
      return (await this.connectPool().query<R>(sql, params)).rows;
    } catch (error) {
      throw this.databaseError(error);
    }
  }

  /** One transaction, retried whole after a deadlock or serialization failure. */
  private async transaction<T>(body: (db: Client) => Promise<T>): Promise<T> {
    await this.ready();
    const timeoutMs = lockTimeoutMs();
    for (let attempt = 1; ; attempt++) {
      const client = await this.client();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        // lock_timeout 0 means "wait forever" to PostgreSQL; JIT_LOCK_TIMEOUT=0 means "do not wait".
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.ceil(timeoutMs))}`);
        const result = await body(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        if (error instanceof CallbackError) throw error.error;
        if (isRetryable(error) && attempt < MAX_ATTEMPTS) {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(100, 5 * attempt)));
          continue;
        }
        throw this.databaseError(error);
      } finally {
        client.release(broken);
      }
    }
  }

  /** The live change feed (`jit serve`): LISTEN on a connection of its own (pg-change-feed.ts). */
  async watchChanges(options?: ChangeFeedOptions): Promise<ChangeSource> {
    await this.ready();
    try {
      return await new PgChangeFeed(() => this.listenerClient(), this.schema, options).start();
    } catch (error) {
      throw this.databaseError(error);
    }
  }

  /** A connection outside the pool, for LISTEN: a pooled one would be handed to other work. */
  private async listenerClient(): Promise<PgModule.Client> {
    const pg = require('pg') as typeof PgModule;
    // Keep-alives and a query timeout: a connection cut without a word (a dropped route) ends, and is reconnected.
    const client = new pg.Client({ connectionString: this.url, application_name: 'jit-serve', options: `-c search_path=${this.schema}`, keepAlive: true, query_timeout: 60_000, connectionTimeoutMillis: connectTimeoutMs(), ...this.poolConfig });
    client.on('error', () => undefined); // the feed watches 'end' and reconnects
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw this.databaseError(error);
    }
  }

  // ------------------------------------------------------------ reads

  private summaryRows(sql: string, params: unknown[] = []): Promise<IssueSummary[]> {
    return this.read<{ summary: IssueSummary }>(sql, params).then((rows) => rows.map((r) => r.summary));
  }

  async loadSummaries(): Promise<ReadonlyMap<string, IssueSummary>> {
    const summaries = await this.summaryRows('SELECT summary FROM issues ORDER BY created_at, id');
    return new Map(summaries.map((s) => [s.id, s]));
  }

  async summaries(ids: readonly string[]): Promise<Map<string, IssueSummary>> {
    if (ids.length === 0) return new Map();
    const found = await this.summaryRows('SELECT summary FROM issues WHERE id = ANY ($1::text[])', [ids]);
    return new Map(found.map((s) => [s.id, s]));
  }

  async summariesByPrefix(prefix: string, limit: number): Promise<IssueSummary[]> {
    // Ids and prefixes are lower-case hex and dashes: no LIKE metacharacters to escape.
    return this.summaryRows(`SELECT summary FROM issues WHERE id LIKE $1 || '%' ORDER BY id LIMIT $2`, [prefix, Math.max(0, limit)]);
  }

  async dependentsOf(ids: readonly string[]): Promise<IssueSummary[]> {
    if (ids.length === 0) return [];
    return this.summaryRows('SELECT summary FROM issues WHERE dependencies && $1::text[] ORDER BY created_at, id', [ids]);
  }

  async downstreamOf(id: string): Promise<IssueSummary[]> {
    return this.summaryRows(
      `WITH RECURSIVE down(id) AS (
         SELECT i.id FROM issues i WHERE i.dependencies @> ARRAY[$1::text]
         UNION SELECT i.id FROM issues i JOIN down ON i.dependencies @> ARRAY[down.id])
       SELECT summary FROM issues WHERE id IN (SELECT id FROM down) AND id <> $1 ORDER BY created_at, id`,
      [id],
    );
  }

  /** SQL conditions (on `i`) for a filter, appending their parameters. */
  private static filterSql(filter: SummaryFilter, params: unknown[]): string[] {
    const where: string[] = [];
    if (filter.state !== undefined) where.push(`i.state = $${params.push(filter.state)}`);
    if (filter.priority !== undefined) where.push(`i.priority_rank = $${params.push(PRIORITY_RANK[filter.priority])}`);
    if (filter.assignee !== undefined) where.push(`i.assignee = $${params.push(filter.assignee)}`);
    if (filter.label !== undefined) {
      const namespace = /^(.+):\*$/.exec(filter.label);
      if (namespace) where.push(`EXISTS (SELECT 1 FROM unnest(i.labels) l WHERE starts_with(l, $${params.push(`${namespace[1]}:`)}))`);
      else where.push(`i.labels @> ARRAY[$${params.push(filter.label)}::text]`);
    }
    if (filter.states !== undefined) where.push(`i.state = ANY ($${params.push([...filter.states])}::text[])`);
    if (filter.anyLabel !== undefined) where.push(`i.labels && $${params.push([...filter.anyLabel])}::text[]`);
    return where;
  }

  async readyWork(query: ReadyQuery = {}): Promise<IssueSummary[]> {
    const params: unknown[] = [];
    const where = [`i.state = 'ready'`, 'i.assignee IS NULL', ...PgStorage.filterSql({ priority: query.priority, label: query.label }, params), `NOT ${WAITS}`];
    if (query.excludeLabels && query.excludeLabels.length > 0) where.push(`NOT (i.labels && $${params.push([...query.excludeLabels])}::text[])`);
    const limit = query.limit === undefined ? '' : ` LIMIT $${params.push(query.limit)}`;
    return this.summaryRows(`SELECT i.summary FROM issues i WHERE ${where.join(' AND ')} ORDER BY i.priority_rank, i.created_at, i.id${limit}`, params);
  }

  async readyWorkJson(query?: ReadyQuery): Promise<JsonList> {
    return jsonList(await this.readyWork(query));
  }

  async statusReport(options: Pick<ReadyQuery, 'excludeLabels'> = {}): Promise<StatusReport> {
    // Counts per state from the counters (schema version 2), not a scan. Ready and blocked need whether an issue
    // waits for unfinished work, which other rows decide: asked only of the open issues with dependencies (a
    // partial index), and, for the ready count, of the ready ones carrying an excluded (strategic) label.
    const excluded = [...(options.excludeLabels ?? [])];
    const rows = await this.read<{ kind: 'count' | 'waiting' | 'excluded'; state: State; free: boolean; n: number }>(
      `SELECT 'count' AS kind, state, free, sum(n)::int AS n FROM issue_counts GROUP BY state, free
       UNION ALL
       SELECT 'waiting', i.state, i.assignee IS NULL, count(*)::int FROM issues i
       WHERE cardinality(i.dependencies) > 0 AND i.state NOT IN ${TERMINAL_SQL} AND ${WAITS} GROUP BY 2, 3
       UNION ALL
       SELECT 'excluded', 'ready', true, count(*)::int FROM issues i
       WHERE cardinality($1::text[]) > 0 AND i.state = 'ready' AND i.assignee IS NULL AND i.labels && $1::text[] AND NOT ${WAITS}`,
      [excluded],
    );
    const byState = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<State, number>;
    let total = 0;
    let ready = 0;
    let blocked = 0;
    for (const row of rows) {
      const readyAndFree = row.state === 'ready' && row.free;
      if (row.kind === 'count') {
        total += row.n;
        byState[row.state] += row.n;
        if (readyAndFree) ready += row.n;
        if (row.state === 'gated') blocked += row.n;
      } else {
        // Waiting or excluded: not ready; waiting and not gated (counted already): blocked.
        if (readyAndFree) ready -= row.n;
        if (row.kind === 'waiting' && row.state !== 'gated') blocked += row.n;
      }
    }
    return { total, by_state: byState, ready, blocked };
  }

  async labelNamespaces(): Promise<LabelNamespace[]> {
    const rows = await this.read<{ namespace: string; values: number; issues: number }>(
      `SELECT split_part(l, ':', 1) COLLATE "C" AS namespace, count(DISTINCT l)::int AS values, count(DISTINCT i.id)::int AS issues
       FROM issues i, unnest(i.labels) l WHERE position(':' IN l) > 1 GROUP BY 1 ORDER BY 1`,
    );
    return rows.map((row) => ({ namespace: row.namespace, values: row.values, issues: row.issues }));
  }

  async labelValues(namespace: string): Promise<LabelValue[]> {
    const prefix = `${namespace}:`;
    // starts_with, not LIKE: a namespace may hold % or _.
    const rows = await this.read<{ label: string; issues: number }>(
      `SELECT l COLLATE "C" AS label, count(DISTINCT i.id)::int AS issues
       FROM issues i, unnest(i.labels) l WHERE starts_with(l, $1) GROUP BY 1 ORDER BY 1`,
      [prefix],
    );
    return rows.map((row) => ({ label: row.label, value: row.label.slice(prefix.length), issues: row.issues }));
  }

  /** `config.toml` of the project folder when there is one; a database alone has none. */
  readConfig(): StoreConfig {
    return this.jitDir === undefined ? { path: CONFIG_FILE, exists: false, data: {} } : readStoreConfig(this.jitDir);
  }

  async blockedCandidates(): Promise<BlockedCandidate[]> {
    const rows = await this.read<{ summary: IssueSummary; waits: { id: string; state: State }[] | null }>(
      `SELECT i.summary, CASE WHEN i.state IN ${TERMINAL_SQL} THEN NULL ELSE (
         SELECT json_agg(json_build_object('id', d.id, 'state', d.state) ORDER BY array_position(i.dependencies, d.id))
         FROM issues d WHERE d.id = ANY (i.dependencies) AND d.state NOT IN ${TERMINAL_SQL}) END AS waits
       FROM issues i
       WHERE i.state = 'gated' OR (i.state NOT IN ${TERMINAL_SQL} AND ${WAITS})
       ORDER BY i.created_at, i.id`,
    );
    return rows.map((row) => ({ issue: row.summary, waitsFor: row.waits ?? [] }));
  }

  async lapsableClaims(now: string): Promise<IssueSummary[]> {
    return this.summaryRows(
      `SELECT summary FROM issues
       WHERE state IN ('in_progress', 'gated') AND assignee IS NOT NULL
         AND ((lease_expires_at IS NOT NULL AND lease_expires_at <= $1) OR lease_agent IS NOT NULL)
       ORDER BY created_at, id`,
      [now],
    );
  }

  async heldClaims(): Promise<HeldClaims> {
    const rows = await this.read<{ issue: Issue }>(`SELECT issue FROM issues WHERE state IN ('in_progress', 'gated') AND assignee IS NOT NULL`);
    return { claims: rows.map(({ issue }) => ({ summary: summarize(issue), lease: activeLease(issue) ?? null })), fromFiles: [] };
  }

  async listSummaries(filter: SummaryFilter = {}): Promise<IssueSummary[]> {
    const params: unknown[] = [];
    const where = PgStorage.filterSql(filter, params);
    return this.summaryRows(`SELECT i.summary FROM issues i ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY i.created_at, i.id`, params);
  }

  async pageSummaries(filter: SummaryFilter, page: SummaryPage): Promise<SummariesPage> {
    const params: unknown[] = [];
    const where = PgStorage.filterSql(filter, params);
    const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    // One statement, so one snapshot: a commit between a page query and a count query would make them disagree.
    // The count's row stands even when the page is empty (an offset past the end).
    const rows = await this.read<{ total: string; summary: IssueSummary | null }>(
      `SELECT t.total, p.summary FROM (SELECT count(*) AS total FROM issues i ${whereSql}) t
       LEFT JOIN LATERAL (SELECT i.summary, i.created_at, i.id FROM issues i ${whereSql}
                          ORDER BY i.created_at, i.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}) p ON true
       ORDER BY p.created_at, p.id`,
      [...params, page.limit, page.offset],
    );
    const issues = rows.flatMap((r) => (r.summary === null ? [] : [r.summary]));
    return { issues, total: Number(rows[0]?.total ?? 0) };
  }

  async readIssue(id: string): Promise<Issue | null> {
    const rows = await this.read<{ issue: Issue }>('SELECT issue FROM issues WHERE id = $1', [id]);
    return rows[0]?.issue ?? null;
  }

  async readAllIssues(): Promise<Issue[]> {
    return (await this.read<{ issue: Issue }>('SELECT issue FROM issues ORDER BY created_at, id')).map((r) => r.issue);
  }

  async readGates(): Promise<ReadonlyMap<string, GateDefinition>> {
    const rows = await this.read<{ key: string; definition: GateDefinition }>('SELECT key, definition FROM gates ORDER BY key');
    return new Map(rows.map((r) => [r.key, r.definition]));
  }

  private static eventSql(filter: EventFilter, params: unknown[]): string {
    const where: string[] = [];
    if (filter.type !== undefined) where.push(`type = $${params.push(filter.type)}`);
    if (filter.issuePrefix !== undefined && filter.issuePrefix !== '') where.push(`issue_id LIKE $${params.push(filter.issuePrefix.replace(/[\\%_]/g, '\\$&'))} || '%'`);
    return where.length > 0 ? where.join(' AND ') : 'TRUE';
  }

  async readEvents(filter: EventFilter & { last?: number } = {}): Promise<JitEvent[]> {
    if (filter.last !== undefined && filter.last <= 0) return [];
    const params: unknown[] = [];
    const where = PgStorage.eventSql(filter, params);
    if (filter.last === undefined) return (await this.read<{ event: JitEvent }>(`SELECT event FROM events WHERE ${where} ORDER BY seq`, params)).map((r) => r.event);
    const rows = await this.read<{ event: JitEvent }>(`SELECT event FROM events WHERE ${where} ORDER BY seq DESC LIMIT $${params.push(filter.last)}`, params);
    return rows.map((r) => r.event).reverse();
  }

  async scanEvents(filter: EventFilter, visit: (event: JitEvent) => void): Promise<void> {
    // Keyset pages: memory stays flat at any log size.
    for (let after = 0; ; ) {
      const params: unknown[] = [];
      const where = PgStorage.eventSql(filter, params);
      const rows = await this.read<{ seq: string; event: JitEvent }>(
        `SELECT seq, event FROM events WHERE ${where} AND seq > $${params.push(after)} ORDER BY seq LIMIT ${SCAN_PAGE}`,
        params,
      );
      for (const row of rows) visit(row.event);
      if (rows.length < SCAN_PAGE) return;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  // ------------------------------------------------------------ transactions

  /**
   * The locked issues as stored now (write: FOR UPDATE, read: FOR SHARE, both in id order), and the peeked ones.
   * `wait: false` takes the rows SKIP LOCKED: a row another transaction holds comes back missing, and one that
   * exists all the same is busy (LOCK_TIMEOUT at once, as on files): no wait for another's row.
   */
  private static async lockIssues(db: Queryable, locks: IssueLocks): Promise<Map<string, Issue | null>> {
    const found = new Map<string, Issue | null>();
    const write = [...new Set(locks.write)].sort();
    const read = [...new Set(locks.read ?? [])].filter((id) => !write.includes(id)).sort();
    const peek = [...new Set(locks.peek ?? [])].filter((id) => !write.includes(id) && !read.includes(id));
    const skip = locks.wait === false ? ' SKIP LOCKED' : '';
    const select = async (ids: string[], suffix: string): Promise<void> => {
      if (ids.length === 0) return;
      for (const id of ids) found.set(id, null);
      const { rows } = await db.query<{ issue: Issue }>(`SELECT issue FROM issues WHERE id = ANY ($1::text[]) ORDER BY id ${suffix}`, [ids]);
      for (const row of rows) found.set(row.issue.id, row.issue);
      if (skip === '' || suffix === '') return;
      const skipped = ids.filter((id) => found.get(id) === null);
      if (skipped.length === 0) return;
      const { rows: present } = await db.query<{ id: string }>('SELECT id FROM issues WHERE id = ANY ($1::text[]) ORDER BY id', [skipped]);
      if (present.length > 0) throw busy(present.map((row) => row.id));
    };
    await select(write, `FOR UPDATE${skip}`);
    await select(read, `FOR SHARE${skip}`);
    await select(peek, '');
    return found;
  }

  private static async readGatesIn(db: Queryable): Promise<Map<string, GateDefinition>> {
    const { rows } = await db.query<{ key: string; definition: GateDefinition }>('SELECT key, definition FROM gates ORDER BY key');
    return new Map(rows.map((r) => [r.key, r.definition]));
  }

  /** The IssueTx over pre-read rows; its writes are buffered for `commit`. */
  private static buffer(locks: IssueLocks, rows: ReadonlyMap<string, Issue | null>, gates: ReadonlyMap<string, GateDefinition> | undefined) {
    const writable = new Set(locks.write);
    const changes = new Map<string, Issue | null>();
    const events: JitEvent[] = [];
    const followUps: FollowUp[] = [];
    const tx: IssueTx = {
      issue: (id) => {
        if (!rows.has(id)) throw new JitError('INTERNAL', `Transaction read issue ${id} without locking it.`);
        const issue = changes.has(id) ? changes.get(id)! : rows.get(id)!;
        return issue && structuredClone(issue);
      },
      put: (issue) => {
        if (!writable.has(issue.id)) throw new JitError('INTERNAL', `Transaction wrote issue ${issue.id} without locking it.`);
        changes.set(issue.id, structuredClone(issue));
      },
      remove: (id) => {
        if (!writable.has(id)) throw new JitError('INTERNAL', `Transaction removed issue ${id} without locking it.`);
        changes.set(id, null);
      },
      event: (event) => void events.push(structuredClone(event)),
      followUp: (kind, issueId) => {
        const followUp: FollowUp = { kind, issueId, token: `${issueId}.${randomUUID()}.${kind}` };
        followUps.push(followUp);
        return followUp;
      },
      gates: () => {
        if (!gates) throw new JitError('INTERNAL', 'Transaction read the gate registry without locking it.');
        return structuredClone(gates);
      },
    };
    return { tx, rows, changes, events, followUps };
  }

  /** Sends a transaction's buffered writes; follow-ups only with a change (as on files). */
  private static async commit(db: Queryable, written: ReturnType<typeof PgStorage.buffer>): Promise<void> {
    const { rows, changes, events, followUps } = written;
    for (const [id, issue] of changes) {
      if (issue === null) await db.query('DELETE FROM issues WHERE id = $1', [id]);
      else if (rows.get(id) === null) {
        // Absent when locked (FOR UPDATE locks no missing row): another transaction may have created it since.
        // Then this one decided on a stale read: run it again (as a serialization failure), never overwrite.
        const inserted = await db.query(`INSERT INTO issues (${ISSUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`, issueRow(issue));
        if (inserted.rowCount === 0) throw Object.assign(new Error(`issue ${id} was created by another transaction`), { code: '40001' });
      } else {
        await db.query(
          `INSERT INTO issues (${ISSUE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
           ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, priority_rank = EXCLUDED.priority_rank, assignee = EXCLUDED.assignee,
             labels = EXCLUDED.labels, dependencies = EXCLUDED.dependencies, created_at = EXCLUDED.created_at,
             lease_expires_at = EXCLUDED.lease_expires_at, lease_agent = EXCLUDED.lease_agent, summary = EXCLUDED.summary, issue = EXCLUDED.issue`,
          issueRow(issue),
        );
      }
    }
    await PgStorage.insertEvents(db, events);
    if (changes.size > 0 && followUps.length > 0) {
      await db.query(`INSERT INTO follow_ups (token, kind, issue_id) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, [
        followUps.map((f) => f.token),
        followUps.map((f) => f.kind),
        followUps.map((f) => f.issueId),
      ]);
    }
  }

  /**
   * Appends events, and tells the change feeds (pg-change-feed.ts) which rows: NOTIFY is delivered only after
   * COMMIT (never for a rollback), and in commit order, which can differ from the rows' seq order.
   */
  private static async insertEvents(db: Queryable, events: readonly JitEvent[]): Promise<void> {
    if (events.length === 0) return;
    await db.query(
      `WITH inserted AS (INSERT INTO events (type, issue_id, event) SELECT * FROM unnest($1::text[], $2::text[], $3::json[]) RETURNING seq)
       SELECT pg_notify('${EVENTS_CHANNEL}', current_schema() || ' ' || min(seq) || ' ' || max(seq)) FROM inserted`,
      [events.map((e) => e.type), events.map((e) => e.issue_id), events.map((e) => JSON.stringify(e))],
    );
  }

  private static async lockGates(db: Queryable, mode: 'shared' | 'exclusive'): Promise<Map<string, GateDefinition>> {
    await db.query(mode === 'shared' ? 'SELECT pg_advisory_xact_lock_shared($1)' : 'SELECT pg_advisory_xact_lock($1)', [GATES_LOCK]);
    return PgStorage.readGatesIn(db);
  }

  async issueTransaction<T>(locks: IssueLocks, apply: (tx: IssueTx) => T): Promise<T> {
    return this.transaction(async (db) => {
      const gates = locks.gates ? await PgStorage.lockGates(db, 'shared') : undefined;
      const rows = await PgStorage.lockIssues(db, locks);
      const written = PgStorage.buffer(locks, rows, gates);
      const result = callback(() => apply(written.tx));
      await PgStorage.commit(db, written);
      return result;
    });
  }

  async graphTransaction<T>(plan: (graph: GraphLookup) => IssueLocks, apply: (tx: GraphTx) => T): Promise<T> {
    return this.transaction(async (db) => {
      // One graph change at a time: a cycle check cannot race another edge.
      await db.query('SELECT pg_advisory_xact_lock($1)', [GRAPH_LOCK]);
      const graph = new GraphCache();
      const fetch = (miss: GraphMiss): Promise<void> => graph.fetch(db, miss);
      const locks = await untilComplete(() => callback(() => plan(graph)), fetch);
      const gates = locks.gates ? await PgStorage.lockGates(db, 'shared') : undefined;
      const rows = await PgStorage.lockIssues(db, locks);
      let written = PgStorage.buffer(locks, rows, gates);
      const result = await untilComplete(() => {
        written = PgStorage.buffer(locks, rows, gates);
        const lookup: GraphLookup = { summary: (id) => graph.summary(id), dependentsOf: (id) => graph.dependentsOf(id) };
        return callback(() => apply({ ...written.tx, ...lookup }));
      }, fetch);
      await PgStorage.commit(db, written);
      return result;
    });
  }

  async gatesTransaction<T>(apply: (gates: Map<string, GateDefinition>, issues: () => Issue[], event: (event: JitEvent) => void) => T): Promise<T> {
    return this.transaction(async (db) => {
      const before = await PgStorage.lockGates(db, 'exclusive');
      let everyIssue: Issue[] | undefined;
      let draft = structuredClone(before);
      let events: JitEvent[] = [];
      const result = await untilComplete(
        () => {
          draft = structuredClone(before);
          events = [];
          return callback(() =>
            apply(
              draft,
              () => {
                if (!everyIssue) throw new GraphMiss('issues', '');
                return structuredClone(everyIssue);
              },
              (event) => void events.push(structuredClone(event)),
            ),
          );
        },
        async () => {
          everyIssue = (await db.query<{ issue: Issue }>('SELECT issue FROM issues ORDER BY created_at, id')).rows.map((r) => r.issue);
        },
      );
      const removed = [...before.keys()].filter((key) => !draft.has(key));
      if (removed.length > 0) await db.query('DELETE FROM gates WHERE key = ANY ($1::text[])', [removed]);
      for (const [key, definition] of draft) {
        if (JSON.stringify(before.get(key)) === JSON.stringify(definition)) continue;
        await db.query('INSERT INTO gates (key, definition) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET definition = EXCLUDED.definition', [key, JSON.stringify(definition)]);
      }
      await PgStorage.insertEvents(db, events);
      return result;
    });
  }

  async listFollowUps(): Promise<FollowUp[]> {
    // A follow-up commits with its change, so every stored one's change is visible to whoever finishes it.
    const rows = await this.read<{ token: string; kind: FollowUp['kind']; issue_id: string }>('SELECT token, kind, issue_id FROM follow_ups ORDER BY seq');
    return rows.map((r) => ({ kind: r.kind, issueId: r.issue_id, token: r.token }));
  }

  async finishFollowUps(followUps: readonly FollowUp[]): Promise<void> {
    if (followUps.length === 0) return;
    await this.read('DELETE FROM follow_ups WHERE token = ANY ($1::text[])', [followUps.map((f) => f.token)]);
  }

  async check(): Promise<StorageCheck> {
    // One transaction per operation leaves no crash leftovers to recover; the schema was checked at connect.
    await this.ready();
    return { problems: [], fixed: [], recovered: [] };
  }

  /**
   * Agent liveness is an OS lock on one machine: from a database shared by
   * several machines jit cannot tell whether another machine's agent runs.
   * Claims bound to an agent are taken as held; use lease TTLs to bound
   * claims across machines (docs/postgres.md).
   */
  isAgentLive(): boolean {
    return true;
  }

  listAgents(): AgentRecord[] {
    return [];
  }
}
