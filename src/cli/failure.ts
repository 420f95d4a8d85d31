/**
 * Turns anything thrown into one JitError and reports it: the JSON error
 * document on stdout with --json, always one line on stderr, and the exit
 * code from exit-codes.ts. Stack traces only with JIT_DEBUG=1.
 */
import { JitError, type JitErrorCode } from '../store/errors.js';
import { exitCodeFor, type ExitCode } from './exit-codes.js';
import { oneLine, painter, writeJson } from './output.js';

const PERMISSION_ERRNOS = new Set(['EACCES', 'EPERM']);

function isJitError(error: unknown): error is JitError {
  return error instanceof JitError || (error instanceof Error && error.name === 'JitError' && typeof (error as JitError).code === 'string');
}

/** Errors that escaped as plain Node errors still get a stable code. */
function toJitError(error: unknown): JitError {
  if (isJitError(error)) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) {
    const code: JitErrorCode = PERMISSION_ERRNOS.has(errno) ? 'PERMISSION_DENIED' : 'IO_ERROR';
    return new JitError(code, message, {
      suggestions: [code === 'PERMISSION_DENIED' ? 'Check the file permissions.' : 'Check the disk and the path, then retry.'],
      cause: error,
    });
  }
  return new JitError('INTERNAL', `Unexpected error: ${message}`, {
    suggestions: ['This is a bug in jit; run again with JIT_DEBUG=1 for the stack trace and report it.'],
    cause: error,
  });
}

export function reportFailure(thrown: unknown, json: boolean): ExitCode {
  const error = toJitError(thrown);
  if (json) writeJson({ error: error.toJSON() });
  const paint = painter(process.stderr);
  const hint = error.suggestions.length > 0 ? ` ${paint('bold', 'Hint:')} ${oneLine(error.suggestions.join(' '))}` : '';
  process.stderr.write(`${paint('red', 'jit: error:')} ${oneLine(error.message)}${hint} ${paint('dim', `[${error.code}]`)}\n`);
  if (process.env['JIT_DEBUG'] === '1') {
    const original = error.cause instanceof Error ? error.cause : error;
    process.stderr.write(`${original.stack ?? String(original)}\n`);
  }
  return exitCodeFor(error.code);
}
