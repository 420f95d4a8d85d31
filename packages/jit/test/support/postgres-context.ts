// What the test PostgreSQL's global setup (postgres-server.mts) provides to tests, for inject().
export {};

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
