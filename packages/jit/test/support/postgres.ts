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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function createDatabase(template?: string): Promise<string> {
  const admin = postgresUrl();
  const name = `jit_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
        break;
      } catch (error) {
        // 55006: a session is still in the template (the server ends a closed one's backend a moment later).
        if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
        await sleep(250 * attempt);
      }
    }
  } finally {
    await client.end();
  }
  return databaseUrl(admin, name);
}

/** A new, empty database on the test server (no jit schema: `jit db init` has work to do); its URL. */
export function freshDatabase(): Promise<string> {
  return createDatabase();
}

/** A new database with jit's schema (schema `jit`, current version), cloned from the run's template; its URL. */
export function trackerDatabase(): Promise<string> {
  return createDatabase(inject('postgresTemplate'));
}

/** A schema name no other store in the database uses. */
export function freshSchema(): string {
  return `jit_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}
