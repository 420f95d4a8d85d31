/**
 * Turns anything thrown into one JitError and reports it: with --json the
 * JSON error document on stdout and nothing else (harnesses read `2>&1` as
 * one JSON document), otherwise one line on stderr; and the exit code from
 * exit-codes.ts. Stack traces only with JIT_DEBUG=1, on stderr.
 */
import { toJitError, withHints } from '../store/core.js';
import { exitCodeFor, type ExitCode } from './exit-codes.js';
import { oneLine, painter, STDERR, writeJson, writeOut } from './output.js';

/**
 * The suggestions as one unambiguous line: a bare command (`jit gate pass 1a2b tests`)
 * is put in backticks like the commands inside sentences, and several suggestions
 * are numbered, so two commands never read as one.
 */
export function hintText(suggestions: readonly string[]): string {
  const hints = suggestions.map((suggestion) => {
    const line = oneLine(suggestion).trim();
    return /^jit\s/.test(line) && !line.includes('`') ? `\`${line}\`` : line;
  });
  return hints.length === 1 ? hints[0]! : hints.map((hint, i) => `(${i + 1}) ${hint}`).join(' ');
}

export function reportFailure(thrown: unknown, json: boolean): ExitCode {
  const error = withHints(toJitError(thrown));
  if (json) {
    writeJson({ error: error.toJSON() });
  } else {
    const paint = painter(STDERR);
    const hint = error.suggestions.length > 0 ? ` ${paint('bold', 'Hint:')} ${hintText(error.suggestions)}` : '';
    writeOut(STDERR, `${paint('red', 'jit: error:')} ${oneLine(error.message)}${hint} ${paint('dim', `[${error.code}]`)}\n`);
  }
  if (process.env['JIT_DEBUG'] === '1') {
    const original = error.cause instanceof Error ? error.cause : error;
    writeOut(STDERR, `${original.stack ?? String(original)}\n`);
  }
  return exitCodeFor(error.code);
}
