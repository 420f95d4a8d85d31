/**
 * The PostgreSQL schema jit creates and versions itself (`jit db init`,
 * `jit db migrate`; checked at every connect). Every step is one SQL script,
 * run in one transaction with the version it reaches; a database whose
 * version is newer than this jit's is refused, as a newer `.jit` format is.
 *
 * Why these shapes:
 * - `id` and the timestamps are `COLLATE "C"`: the file store orders by code
 *   units (byAge, id order), and "C" makes `LIKE 'prefix%'` use the primary key.
 * - Issues, summaries and events are `json`, not `jsonb`: json keeps the text
 *   as written, so `--json` output keeps its key order.
 * - The summary's fields the queries filter on are columns with indexes
 *   (ready work, state counts, dependents through a GIN index on the array).
 */
export const PG_SCHEMA_VERSION = 1;

/** Schema steps: MIGRATIONS[n] brings version n to n + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jit_meta (key text PRIMARY KEY, value text NOT NULL);
  CREATE TABLE issues (
    id text COLLATE "C" PRIMARY KEY,
    state text NOT NULL,
    priority_rank smallint NOT NULL,
    assignee text,
    labels text[] NOT NULL,
    dependencies text[] NOT NULL,
    created_at text COLLATE "C" NOT NULL,
    lease_expires_at text COLLATE "C",
    lease_agent text,
    summary json NOT NULL,
    issue json NOT NULL
  );
  CREATE INDEX issues_by_age ON issues (created_at, id);
  CREATE INDEX issues_by_state ON issues (state, created_at, id);
  CREATE INDEX issues_ready ON issues (priority_rank, created_at, id) WHERE state = 'ready' AND assignee IS NULL;
  CREATE INDEX issues_dependencies ON issues USING gin (dependencies);
  CREATE INDEX issues_labels ON issues USING gin (labels);
  CREATE INDEX issues_claims ON issues (created_at, id) WHERE state IN ('in_progress', 'gated') AND assignee IS NOT NULL;
  CREATE TABLE gates (key text COLLATE "C" PRIMARY KEY, definition json NOT NULL);
  CREATE TABLE events (
    seq bigserial PRIMARY KEY,
    type text NOT NULL,
    issue_id text COLLATE "C",
    event json NOT NULL
  );
  CREATE INDEX events_by_type ON events (type, seq);
  CREATE INDEX events_by_issue ON events (issue_id, seq);
  CREATE TABLE follow_ups (
    token text PRIMARY KEY,
    seq bigserial NOT NULL,
    kind text NOT NULL,
    issue_id text COLLATE "C" NOT NULL
  );
  `,
];

/** The oldest server jit runs on: starts_with() for label namespaces is PostgreSQL 11. */
export const MIN_SERVER_VERSION_NUM = 110000;
