/**
 * The rendering of error suggestions for an agent: every operation the store
 * can suggest becomes a real tool with real argument names (or a neutral
 * phrase), and no text meant for an agent names a CLI command. The store's
 * source is scanned too, so a hint written as a plain string with a `jit ...`
 * command in it (which only the CLI could run) fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bare, command, hint, run, sentence, type Suggestion } from '../../src/store/suggestions.js';
import { SAMPLES } from '../support/operation-samples.js';
import { agentSuggestion, OPERATION_TOOLS, renderCommand } from '../../src/mcp/suggestions.js';
import { TOOLS } from '../../src/mcp/tools.js';

const SRC = path.resolve(__dirname, '..', '..', 'src');
/** A CLI command left in text meant for an agent. */
const CLI_COMMAND = /(^|[\s`(])jit [a-z]/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}


/** The string literals on a line of code that are a command line or hold one in backticks (hint`...` templates interpolate commands instead). */
function plainCommands(line: string): string[] {
  // Comments and error messages mention commands in prose; only the hints are rendered per face.
  if (/^\s*(\/\/|\/\*|\*)/.test(line) || /new JitError\(|message: /.test(line)) return [];
  return [...line.matchAll(/(?<!hint)(['"`])((?:\\.|(?!\1).)*)\1/g)].map((match) => match[2]!).filter((text) => /^jit [a-z]|`jit [a-z]/.test(text));
}

describe('MCP suggestions', () => {
  it('has a sample for every operation (the table the other checks walk)', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(OPERATION_TOOLS).sort());
  });

  it('names only real tools, with their argument names', () => {
    for (const [op, sample] of Object.entries(SAMPLES)) {
      const rendering = renderCommand(sample);
      expect(rendering.text, op).not.toMatch(CLI_COMMAND);
      if (!rendering.tool) continue;
      const [name, ...rest] = rendering.text.split(' ');
      const tool = TOOLS.find((candidate) => candidate.name === name);
      expect(tool, `${op} -> ${name}`).toBeDefined();
      const json = /^\{.*\}$/.test(rest.join(' ')) ? (JSON.parse(rest.join(' ')) as Record<string, unknown>) : {};
      const properties = Object.keys((tool!.inputSchema as { properties?: object }).properties ?? {});
      for (const argument of Object.keys(json)) expect(properties, `${op}: ${argument}`).toContain(argument);
    }
  });

  it('finds a CLI command written as plain text (the scan itself works)', () => {
    expect(plainCommands("suggestions: ['Run `jit issue list` to see the ids.'],")).toEqual(['Run `jit issue list` to see the ids.']);
    expect(plainCommands('suggestions: [`jit gate add ${id} ${key}`],')).toEqual(['jit gate add ${id} ${key}']);
    expect(plainCommands("suggestions: [hint`${run(command('issue.list'))} to see the ids.`],")).toEqual([]);
    expect(plainCommands('// Run `jit init` first.')).toEqual([]);
  });

  it('finds no CLI command written as plain text in the suggestions of the store (they are data)', () => {
    for (const file of sourceFiles(path.join(SRC, 'store'))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => expect(plainCommands(line), `${path.relative(SRC, file)}:${i + 1}`).toEqual([]));
    }
  });

  it.each<[Suggestion, string]>([
    [hint`${run(command('issue.list'))} to see the ids.`, 'Call issue_list to see the ids.'],
    [bare(command('gate.pass', { id: 'd4da2513', key: 'tests' })), 'Call gate_pass {"id": "d4da2513", "key": "tests"}.'],
    [bare(command('issue.update', { id: '1a2b', state: 'in_progress' })), 'Call issue_update {"id": "1a2b", "state": "in_progress"}.'],
    [bare(command('registry.add', { key: 'nope', title: '...' })), 'Call registry_add {"key": "nope", "title": "..."}.'],
    [bare(command('registry.show', { key: 'tests' })), 'Call registry_list (it includes gate tests).'],
    [hint`${run(command('validate', { fix: true }))} to rebuild it from the issue files.`, 'Call validate {"fix": true} to rebuild it from the issue files.'],
    [hint`Finish the dependencies first, or remove them with ${command('dep.remove')}.`, 'Finish the dependencies first, or remove them with dep_remove.'],
    [hint`${run(command('init'))} in your project folder.`, "Have a person run the jit CLI's init command (no MCP tool) in your project folder."],
    [hint`e.g. with ${command('debug.locks')}, and end it.`, "e.g. with the jit CLI's debug locks command (no MCP tool), and end it."],
    [
      { parts: ['Or pass --dir PATH / set JIT_DIR.'], agent: 'Or set JIT_DIR (or pass --dir PATH) in the configuration that starts this MCP server.' },
      'Or set JIT_DIR (or pass --dir PATH) in the configuration that starts this MCP server.',
    ],
    [sentence('Give more characters of the id.'), 'Give more characters of the id.'],
  ])('%j -> %j', (suggestion, rendered) => {
    expect(agentSuggestion(suggestion)).toBe(rendered);
  });
});
