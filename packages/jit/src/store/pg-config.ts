/**
 * Choosing PostgreSQL (issue 17): JIT_DATABASE_URL, or `[storage]` in
 * `.jit/config.toml`. Loaded only to answer that question; the driver itself
 * is loaded later still, by the first query (pg-storage.ts).
 *
 * ```toml
 * [storage]
 * backend = "postgres"
 * url = "postgres://jit@db.example.com:5432/tracker"   # no password here: PGPASSWORD or ~/.pgpass
 * schema = "jit"                                        # optional
 * ```
 */
import path from 'node:path';
import { CONFIG_FILE, readStoreConfig } from './config.js';
import { JitError } from './errors.js';
import { readTextIfExists } from './files.js';
import type { BackendChoice } from './jit-dir.js';
import { checkDatabaseUrl, parseDatabaseUrl, PgStorage, urlHasPassword } from './pg-storage.js';


function invalid(filePath: string, what: string): JitError {
  return new JitError('INVALID_DATABASE_URL', `${filePath}: ${what}.`, {
    suggestions: [`Fix [storage] in ${filePath}: backend = "postgres", url = "postgres://USER@HOST:PORT/DATABASE" (the password from PGPASSWORD or ~/.pgpass), optional schema = "jit".`],
    details: { path: filePath },
  });
}

/** The database `[storage]` in the store's config.toml names; undefined when it names none (files). */
export function configuredDatabase(jitDir: string): BackendChoice | undefined {
  const filePath = path.join(path.resolve(jitDir), CONFIG_FILE);
  const text = readTextIfExists(filePath);
  if (text === null || !/^\s*\[storage\]/m.test(text)) return undefined;
  const storage = readStoreConfig(jitDir).data['storage'] as Record<string, unknown>;
  const backend = storage['backend'] ?? 'postgres';
  if (backend === 'files') return undefined;
  if (backend !== 'postgres') throw invalid(filePath, `[storage] backend is ${JSON.stringify(backend)}, not "postgres" or "files"`);
  const url = storage['url'];
  if (typeof url !== 'string' || url === '') throw invalid(filePath, '[storage] has no url');
  checkDatabaseUrl(url, `[storage] url in ${filePath}`);
  // A password in the store's folder would travel with it (git): refused.
  if (urlHasPassword(parseDatabaseUrl(url)!)) throw invalid(filePath, '[storage] url holds a password; keep it out of .jit/ (PGPASSWORD or ~/.pgpass)');
  const schema = storage['schema'];
  if (schema !== undefined && typeof schema !== 'string') throw invalid(filePath, '[storage] schema is not a string');
  return { kind: 'postgres', url, schema, source: filePath };
}

export function openPgStorage(choice: BackendChoice, jitDir: string | undefined): PgStorage {
  const url = checkDatabaseUrl(choice.url ?? '', choice.source);
  return new PgStorage(url, { schema: choice.schema, jitDir });
}
