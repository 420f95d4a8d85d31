// What the test PostgreSQL's global setup (postgres-server.mts) shares with tests: its inject() values, and
// where it records each server it runs (so a later run stops one whose run was killed).
import os from 'node:os';
import path from 'node:path';

/** A record per running test server (ServerRecord), one file each; per user (the folder is private). */
export const STALE_RECORDS = path.join(os.tmpdir(), `jit-test-postgres-${process.getuid?.() ?? os.userInfo().username}`);

export interface ServerRecord {
  /** The vitest process the server is for, and when it started (/proc tick), so a recycled pid is not taken for it. */
  owner: number;
  ownerStart: string | null;
  /** The server's temp folder: data/, sock/, server.log. */
  folder: string;
  /** The user the server runs as (nobody, when the tests run as root). */
  asUser: string | null;
  /** The watchdog process (postgres-watchdog.js). */
  watchdog: number | undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the test server's `postgres` database (as superuser), or '' when it did not start. */
    postgresUrl: string;
    /** A database on that server with jit's schema, to clone (CREATE DATABASE ... TEMPLATE); '' when the server did not start. */
    postgresTemplate: string;
    /** Why it did not start ('' when it did). */
    postgresError: string;
  }
}
