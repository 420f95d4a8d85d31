/**
 * Turns anything thrown into one JitError and reports it: the JSON error
 * document on stdout with --json, always one line on stderr, and the exit
 * code from exit-codes.ts. Stack traces only with JIT_DEBUG=1.
 */
import { toJitError } from '../store/errors.js';
import { exitCodeFor, type ExitCode } from './exit-codes.js';
import { oneLine, painter, STDERR, writeJson, writeOut } from './output.js';

export function reportFailure(thrown: unknown, json: boolean): ExitCode {
  const error = toJitError(thrown);
  if (json) writeJson({ error: error.toJSON() });
  const paint = painter(STDERR);
  const hint = error.suggestions.length > 0 ? ` ${paint('bold', 'Hint:')} ${oneLine(error.suggestions.join(' '))}` : '';
  writeOut(STDERR, `${paint('red', 'jit: error:')} ${oneLine(error.message)}${hint} ${paint('dim', `[${error.code}]`)}\n`);
  if (process.env['JIT_DEBUG'] === '1') {
    const original = error.cause instanceof Error ? error.cause : error;
    writeOut(STDERR, `${original.stack ?? String(original)}\n`);
  }
  return exitCodeFor(error.code);
}
