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
 * - Version 2: `status` reads counters, not every row (issue 17: 10,000 issues
 *   in ≤ 20 ms). A trigger keeps `issue_counts` (issues per state and
 *   assigned-or-free) in the writing transaction itself. Each connection adds
 *   to its own shard of rows (its backend pid), so concurrent writers do not
 *   all queue on one counter row; `status` sums them. Whether an issue waits for
 *   unfinished work depends on other rows: only the open issues that have
 *   dependencies (a partial index) are looked at for it, each dependency's
 *   state read from an index alone (id INCLUDE state: half the time of the
 *   table's rows).
 */
export const PG_SCHEMA_VERSION = 2;

/** Counter shards (see version 2): two writers that share one wait only for each other's commit. */
export const COUNT_SHARDS = 64;

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
  // The trigger first (it locks out writers until this commits), then the counts of the rows already there.
  `
  CREATE TABLE issue_counts (
    state text NOT NULL,
    free boolean NOT NULL,
    shard smallint NOT NULL,
    n bigint NOT NULL,
    PRIMARY KEY (state, free, shard)
  );
  CREATE FUNCTION count_issues() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  DECLARE
    own_shard smallint := pg_backend_pid() % ${COUNT_SHARDS};
  BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = NEW.state AND (OLD.assignee IS NULL) = (NEW.assignee IS NULL) THEN
      RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
      INSERT INTO issue_counts AS c VALUES (OLD.state, OLD.assignee IS NULL, own_shard, -1)
        ON CONFLICT (state, free, shard) DO UPDATE SET n = c.n - 1;
    END IF;
    IF TG_OP <> 'DELETE' THEN
      INSERT INTO issue_counts AS c VALUES (NEW.state, NEW.assignee IS NULL, own_shard, 1)
        ON CONFLICT (state, free, shard) DO UPDATE SET n = c.n + 1;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER issues_count AFTER INSERT OR UPDATE OR DELETE ON issues FOR EACH ROW EXECUTE PROCEDURE count_issues();
  INSERT INTO issue_counts SELECT state, assignee IS NULL, 0, count(*) FROM issues GROUP BY 1, 2;
  CREATE INDEX issues_open_with_dependencies ON issues (state) WHERE cardinality(dependencies) > 0 AND state NOT IN ('done', 'rejected', 'archived');
  CREATE INDEX issues_state_by_id ON issues (id) INCLUDE (state);
  `,
];

/** The oldest server jit runs on: starts_with() for label namespaces is PostgreSQL 11. */
export const MIN_SERVER_VERSION_NUM = 110000;
