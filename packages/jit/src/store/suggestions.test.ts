// Suggestions as data, in the CLI's words: the text of JitError.suggestions and of the --json error document.
import { describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { bare, command, hint, run, sentence, suggestionText, type Suggestion } from './suggestions.js';

describe('suggestion text (the CLI rendering)', () => {
  it.each<[Suggestion, string]>([
    [hint`${run(command('issue.list'))} to see the ids.`, 'Run `jit issue list` to see the ids.'],
    [bare(command('gate.pass', { id: 'd4da2513', key: 'tests' })), 'jit gate pass d4da2513 tests'],
    [bare(command('issue.update', { id: '1a2b', state: 'in_progress' })), 'jit issue update 1a2b --state in_progress'],
    [bare(command('registry.add', { key: 'nope', title: '...' })), 'jit registry add nope --title "..."'],
    [bare(command('registry.remove', { key: 'review', dropRequirements: true })), 'jit registry remove review --drop-requirements'],
    [hint`${run(command('validate', { fix: true }))} to rebuild it from the issue files.`, 'Run `jit validate --fix` to rebuild it from the issue files.'],
    [hint`Finish the dependencies first, or remove them with ${command('dep.remove')}.`, 'Finish the dependencies first, or remove them with `jit dep rm`.'],
    [hint`Move it away (\`mv a b\`), then run ${command('init')} in ${'/tmp'}.`, 'Move it away (`mv a b`), then run `jit init` in /tmp.'],
    [{ parts: ['Or pass --dir PATH / set JIT_DIR.'], agent: 'Or set JIT_DIR.' }, 'Or pass --dir PATH / set JIT_DIR.'],
    [sentence('Give more characters of the id.'), 'Give more characters of the id.'],
  ])('%j -> %j', (suggestion, text) => {
    expect(suggestionText(suggestion)).toBe(text);
  });

  it('keeps both forms on a JitError: the data (hints) and the CLI text (suggestions, as toJSON gives them)', () => {
    const error = new JitError('GATE_NOT_FOUND', 'x', { suggestions: [bare(command('gate.add', { id: '1a2b', key: 'tests' })), 'Or not.'] });
    expect(error.hints[0]).toEqual({ parts: [{ command: { op: 'gate.add', args: { id: '1a2b', key: 'tests' } }, run: false }] });
    expect(error.suggestions).toEqual(['jit gate add 1a2b tests', 'Or not.']);
    expect(error.toJSON().suggestions).toEqual(error.suggestions);
  });
});
