/**
 * One error type for everything the tracker refuses or fails at. Both faces
 * render it: the CLI as an exit code (see src/cli/exit-codes.ts) and JSON,
 * the MCP server as an `isError` result. `code` is stable API.
 */
export type JitErrorCode =
  | 'NOT_INITIALIZED' // no .jit/ found
  | 'INVALID_ARGUMENT' // bad state/priority/label/assignee/option value
  | 'INVALID_ID' // not a UUID or a hex prefix of 4+ characters
  | 'AMBIGUOUS_ID' // prefix matches several issues
  | 'ISSUE_NOT_FOUND'
  | 'GATE_NOT_FOUND' // key not in the registry, or not required by the issue
  | 'DEPENDENCY_NOT_FOUND'
  | 'NO_READY_ISSUE' // claim-next found nothing
  | 'ALREADY_EXISTS' // gate key, dependency, .jit (where that is an error)
  | 'ALREADY_CLAIMED' // claim of an issue someone else holds
  | 'CYCLE' // dependency would close a cycle
  | 'GATES_PENDING' // done requested with unpassed gates: the issue is now `gated`
  | 'INVALID_TRANSITION'
  | 'CORRUPT_FILE' // unparsable / schema-invalid file; names the file
  | 'UNSUPPORTED_SCHEMA' // schema_version newer than this jit
  | 'PERMISSION_DENIED'
  | 'IO_ERROR' // other file-system failure (ENOSPC, EROFS, EIO, ...)
  | 'UNSAFE_PATH' // symlink or non-regular file where jit writes
  | 'LOCK_TIMEOUT'
  | 'INVALID_ENV' // e.g. JIT_LOCK_TIMEOUT=abc
  | 'INTERNAL';

export class JitError extends Error {
  override readonly name = 'JitError';
  readonly code: JitErrorCode;
  /** What the user can do next; rendered by both faces. */
  readonly suggestions: string[];
  /** Extra machine-readable facts (the cycle's ids, the file's path, ...). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: JitErrorCode,
    message: string,
    options: { suggestions?: string[]; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.suggestions = options.suggestions ?? [];
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
