/**
 * One error type for everything the tracker refuses or fails at. Both faces
 * render it: the CLI as an exit code (see src/cli/exit-codes.ts) and JSON,
 * the MCP server as an `isError` result. `code` is stable API.
 */
import { suggestionText, toSuggestion, type Suggestion } from './suggestions.js';

export type JitErrorCode =
  | 'NOT_INITIALIZED' // no .jit/ found
  | 'INVALID_ARGUMENT' // bad state/priority/label/assignee/option value
  | 'INVALID_ID' // not a UUID or a hex prefix of 4+ characters
  | 'AMBIGUOUS_ID' // prefix matches several issues
  | 'ISSUE_NOT_FOUND'
  | 'GATE_NOT_FOUND' // key not in the registry, or not required by the issue
  | 'DEPENDENCY_NOT_FOUND'
  | 'NO_READY_ISSUE' // claim-next found nothing
  | 'ALREADY_EXISTS' // a gate key taken by another definition (an identical one is `changed: false`)
  | 'ALREADY_CLAIMED' // claim of an issue someone else holds
  | 'NOT_LEASE_HOLDER' // renew of a claim by someone other than its holder (or of a claim that lapsed)
  | 'AGENT_ALREADY_RUNNING' // an agent id whose agent lock another process holds
  | 'CYCLE' // dependency would close a cycle
  | 'HIERARCHY_VIOLATION' // strict config.toml: a dependency in the wrong direction (a task waiting for its epic), or several types on one issue
  | 'GATE_IN_USE' // registry removal of a gate that issues still require (names them)
  | 'GATES_PENDING' // prechecks not passed: claim / in_progress refused (done with unpassed gates saves the issue as `gated` instead)
  | 'GATE_UNTRUSTED' // a checker command this machine has not trusted (see gate-trust.ts)
  | 'INVALID_TRANSITION'
  | 'CORRUPT_FILE' // unparsable / schema-invalid file; names the file
  | 'UNSUPPORTED_SCHEMA' // schema_version newer than this jit
  | 'ORIGINAL_JIT_STORE' // a .jit/ written by the original (Rust) jit, which the migrate command converts
  | 'PERMISSION_DENIED'
  | 'IO_ERROR' // other file-system failure (ENOSPC, EROFS, EIO, ...)
  | 'UNSAFE_PATH' // symlink or non-regular file where jit writes
  | 'LOCK_TIMEOUT'
  | 'INVALID_ENV' // e.g. JIT_LOCK_TIMEOUT=abc
  | 'INVALID_DATABASE_URL' // JIT_DATABASE_URL or config.toml's storage.url is not a postgres:// URL
  | 'DATABASE_UNREACHABLE' // no connection to the PostgreSQL server, or it was lost (nothing was written)
  | 'DATABASE_AUTH_FAILED' // the server refused the credentials or the role lacks a privilege
  | 'DATABASE_NOT_FOUND' // the database named in the URL does not exist
  | 'DATABASE_ERROR' // any other failure the server reported (too old a server included)
  | 'RESULT_TOO_LARGE' // an MCP answer above what a client reads in one message (one huge issue); the CLI prints any size
  | 'INTERNAL';

export class JitError extends Error {
  override readonly name = 'JitError';
  readonly code: JitErrorCode;
  /** What the user can do next, as data (see suggestions.ts); each face renders it. */
  readonly hints: readonly Suggestion[];
  /** The hints in the CLI's words: the `suggestions` of the JSON error document. */
  readonly suggestions: string[];
  /** Extra machine-readable facts (the cycle's ids, the file's path, ...). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: JitErrorCode,
    message: string,
    options: { suggestions?: ReadonlyArray<string | Suggestion>; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hints = (options.suggestions ?? []).map(toSuggestion);
    this.suggestions = this.hints.map(suggestionText);
    this.details = options.details;
  }

  toJSON(): { code: JitErrorCode; message: string; suggestions: string[]; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      suggestions: this.suggestions,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

function isJitError(error: unknown): error is JitError {
  // By name too: a JitError from another copy of this module (e.g. a test
  // importing src/ while the CLI runs dist/) is still one.
  return error instanceof JitError || (error instanceof Error && error.name === 'JitError' && typeof (error as JitError).code === 'string');
}

/**
 * Anything thrown, as one JitError, so both faces report a stable code: a
 * Node file-system error that escaped becomes PERMISSION_DENIED or IO_ERROR;
 * anything else is a bug in jit and becomes INTERNAL.
 */
export function toJitError(error: unknown): JitError {
  if (isJitError(error)) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    const denied = errno === 'EACCES' || errno === 'EPERM';
    const filePath = (error as NodeJS.ErrnoException).path;
    return new JitError(denied ? 'PERMISSION_DENIED' : 'IO_ERROR', message, {
      suggestions: [denied ? 'Check the owner and mode of the file and of .jit/.' : 'Check the disk and the path, then retry.'],
      details: { errno, ...(filePath === undefined ? {} : { path: filePath }) },
      cause: error,
    });
  }
  return new JitError('INTERNAL', `Unexpected error in jit: ${message}`, {
    suggestions: ['This is a bug in jit: retry once, then report it with the output of JIT_DEBUG=1 (stderr).'],
    cause: error,
  });
}
