/**
 * Exit codes of the `jit` command (stable API, documented in
 * docs/errors.md). They follow the original jit's table; 75 is
 * sysexits' EX_TEMPFAIL: a lock timeout is temporary, so retrying is right.
 */
import type { JitErrorCode } from '../store/core.js';

export const EXIT = {
  OK: 0,
  GENERIC: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  VALIDATION: 4,
  PERMISSION: 5,
  ALREADY_EXISTS: 6,
  FILE_SYSTEM: 10,
  LOCK_TIMEOUT: 75,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every JitErrorCode has an exit code; the `Record` makes a new code a compile error until it is mapped here. */
export const EXIT_CODE_BY_ERROR: Record<JitErrorCode, ExitCode> = {
  INVALID_ARGUMENT: EXIT.USAGE,
  INVALID_ID: EXIT.USAGE,
  // A prefix that names several issues is a usage problem: give more characters.
  AMBIGUOUS_ID: EXIT.USAGE,
  INVALID_ENV: EXIT.USAGE,
  // No .jit/ is "the tracker was not found"; the suggestion says `jit init`.
  NOT_INITIALIZED: EXIT.NOT_FOUND,
  ISSUE_NOT_FOUND: EXIT.NOT_FOUND,
  GATE_NOT_FOUND: EXIT.NOT_FOUND,
  DEPENDENCY_NOT_FOUND: EXIT.NOT_FOUND,
  // claim-next found nothing: scripts can loop `while jit issue claim-next ...`.
  NO_READY_ISSUE: EXIT.NOT_FOUND,
  CYCLE: EXIT.VALIDATION,
  // A rule of the type hierarchy refused the change (strict config.toml).
  HIERARCHY_VIOLATION: EXIT.VALIDATION,
  GATES_PENDING: EXIT.VALIDATION,
  // Refused until a person trusts the command: like a permission.
  GATE_UNTRUSTED: EXIT.PERMISSION,
  // A rule refused the change: issues still require the gate.
  GATE_IN_USE: EXIT.VALIDATION,
  INVALID_TRANSITION: EXIT.VALIDATION,
  PERMISSION_DENIED: EXIT.PERMISSION,
  ALREADY_EXISTS: EXIT.ALREADY_EXISTS,
  // Someone else holds the issue: it is taken, like an existing name.
  ALREADY_CLAIMED: EXIT.ALREADY_EXISTS,
  NOT_LEASE_HOLDER: EXIT.ALREADY_EXISTS,
  // Another process runs as this agent: the id is taken.
  AGENT_ALREADY_RUNNING: EXIT.ALREADY_EXISTS,
  CORRUPT_FILE: EXIT.FILE_SYSTEM,
  UNSUPPORTED_SCHEMA: EXIT.FILE_SYSTEM,
  // Another format on disk, as UNSUPPORTED_SCHEMA; the suggestion says `jit migrate`.
  ORIGINAL_JIT_STORE: EXIT.FILE_SYSTEM,
  IO_ERROR: EXIT.FILE_SYSTEM,
  UNSAFE_PATH: EXIT.FILE_SYSTEM,
  LOCK_TIMEOUT: EXIT.LOCK_TIMEOUT,
  // MCP only (the CLI prints any size): what was asked for is too big to send.
  RESULT_TOO_LARGE: EXIT.GENERIC,
  INVALID_DATABASE_URL: EXIT.USAGE,
  // A server that is down or restarting is temporary, as a busy lock is: retrying is right.
  DATABASE_UNREACHABLE: EXIT.LOCK_TIMEOUT,
  DATABASE_AUTH_FAILED: EXIT.PERMISSION,
  DATABASE_NOT_FOUND: EXIT.NOT_FOUND,
  DATABASE_ERROR: EXIT.FILE_SYSTEM,
  INTERNAL: EXIT.GENERIC,
};

export function exitCodeFor(code: JitErrorCode): ExitCode {
  return EXIT_CODE_BY_ERROR[code] ?? EXIT.GENERIC;
}
