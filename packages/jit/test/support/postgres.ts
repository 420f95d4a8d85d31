// The test PostgreSQL (started by postgres-server.mts): URLs of fresh databases and schemas for tests.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The server's admin URL; throws (fails the test, never skips it) with the reason the server did not start. */
export function postgresUrl(): string {
  const url = inject('postgresUrl');
  if (!url) throw new Error(`The test PostgreSQL server did not start, so this PostgreSQL test cannot run:\n${inject('postgresError')}`);
  return url;
}

/** `url` with another database. */
export function databaseUrl(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** A new, empty database on the test server; its URL. */
export async function freshDatabase(): Promise<string> {
  const admin = postgresUrl();
  const name = `jit_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return databaseUrl(admin, name);
}

/** A schema name no other store in the database uses. */
export function freshSchema(): string {
  return `jit_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}
