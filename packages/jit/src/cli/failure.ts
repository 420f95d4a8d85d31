/**
 * Turns anything thrown into one JitError and reports it: with --json the
 * JSON error document on stdout and nothing else (harnesses read `2>&1` as
 * one JSON document), otherwise one line on stderr; and the exit code from
 * exit-codes.ts. Stack traces only with JIT_DEBUG=1, on stderr.
 */
import { bareCommand, suggestionText, toJitError, withHints, type Suggestion } from '../store/core.js';
import { exitCodeFor, type ExitCode } from './exit-codes.js';
import { inert, oneLine, painter, STDERR, writeJson, writeOut } from './output.js';

/**
 * The suggestions as one unambiguous line: a bare command (`jit gate pass 1a2b tests`)
 * is put in backticks like the commands inside sentences, and several suggestions
 * are numbered, so two commands never read as one.
 */
export function hintText(hints: readonly Suggestion[]): string {
  const lines = hints.map((hint) => {
    const line = oneLine(suggestionText(hint)).trim();
    return bareCommand(hint) !== undefined ? `\`${line}\`` : line;
  });
  return lines.length === 1 ? lines[0]! : lines.map((line, i) => `(${i + 1}) ${line}`).join(' ');
}

export function reportFailure(thrown: unknown, json: boolean): ExitCode {
  const error = withHints(toJitError(thrown));
  const exitCode = exitCodeFor(error.code);
  // Set before writing: a reader gone (EPIPE) ends the process at once with the exit code set so far (writeOut).
  process.exitCode = exitCode;
  if (json) {
    writeJson({ error: error.toJSON() });
  } else {
    const paint = painter(STDERR);
    const hint = error.suggestions.length > 0 ? ` ${paint('bold', 'Hint:')} ${hintText(error.hints)}` : '';
    // A message may quote input (a batch's refs, a filter): its control characters are shown, not sent to the terminal.
    writeOut(STDERR, `${paint('red', 'jit: error:')} ${inert(oneLine(error.message))}${hint} ${paint('dim', `[${error.code}]`)}\n`);
  }
  if (process.env['JIT_DEBUG'] === '1') {
    const original = error.cause instanceof Error ? error.cause : error;
    writeOut(STDERR, `${original.stack ?? String(original)}\n`);
  }
  return exitCode;
}
