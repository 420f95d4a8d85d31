/**
 * The CLI -> tool translation of error suggestions. The store's suggestions
 * are read from its source, so a new `jit ...` suggestion without an entry in
 * COMMAND_TOOLS fails here rather than reaching an agent as a shell command.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_TOOLS, translateCommand, translateSuggestion } from './suggestions.js';
import { TOOLS } from './tools.js';

const SRC = path.resolve(__dirname, '..');
const TOOL_NAMES = new Set(TOOLS.map((tool) => tool.name));
/** A CLI command left in text meant for an agent. */
const CLI_COMMAND = /(^|[\s`(])jit [a-z]/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every `jit WORDS` that starts a string or a backtick span in the store, the lock toolkit (the shared hints are in the store). */
function suggestedCommands(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of [...sourceFiles(path.join(SRC, 'store')), ...sourceFiles(path.join(SRC, 'lock'))]) {
    // Code only: comments mention commands too, in prose that is never shown.
    const code = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
      .join('\n');
    for (const match of code.matchAll(/[`'"]jit ((?:[a-z][a-z-]* ?)+)/g)) {
      found.set(match[1]!.trim(), path.relative(SRC, file));
    }
  }
  return found;
}

describe('MCP suggestions', () => {
  it('finds the commands the store suggests (the scan itself works)', () => {
    const commands = [...suggestedCommands().keys()];
    for (const expected of ['issue list', 'gate add', 'query blocked', 'registry show', 'init', 'validate', 'debug locks', 'dep rm']) {
      expect(commands).toContain(expected);
    }
  });

  it('maps every command the store or the hints can suggest to a tool or a neutral phrase', () => {
    for (const [command, file] of suggestedCommands()) {
      const words = command.split(' ');
      const known = words.some((_, n) => COMMAND_TOOLS[words.slice(0, n + 1).join(' ')] !== undefined);
      expect(known, `\`jit ${command}\` (${file}) has no entry in COMMAND_TOOLS`).toBe(true);
      const rendering = translateCommand(`${command} 1a2b3c4d tests`);
      expect(rendering.text).not.toMatch(CLI_COMMAND);
      if (rendering.tool) expect(TOOL_NAMES, `${command} -> ${rendering.text}`).toContain(rendering.text.split(' ')[0]);
    }
  });

  it('names only real tools, with their argument names', () => {
    for (const [words, translate] of Object.entries(COMMAND_TOOLS)) {
      const rendering = translate(['1a2b3c4d', 'tests'], { state: 'done', title: 'T', fix: true });
      expect(rendering.text, words).not.toMatch(CLI_COMMAND);
      if (!rendering.tool) continue;
      const [name, ...rest] = rendering.text.split(' ');
      const tool = TOOLS.find((candidate) => candidate.name === name);
      expect(tool, `${words} -> ${name}`).toBeDefined();
      const json = /^\{.*\}$/.test(rest.join(' ')) ? (JSON.parse(rest.join(' ')) as Record<string, unknown>) : {};
      const properties = Object.keys((tool!.inputSchema as { properties?: object }).properties ?? {});
      for (const argument of Object.keys(json)) expect(properties, `${words}: ${argument}`).toContain(argument);
    }
  });

  it.each([
    ['Run `jit issue list` to see the ids.', 'Call issue_list to see the ids.'],
    ['jit gate pass d4da2513 tests', 'Call gate_pass {"id": "d4da2513", "key": "tests"}.'],
    ['jit issue update 1a2b --state in_progress', 'Call issue_update {"id": "1a2b", "state": "in_progress"}.'],
    ['jit registry add nope --title "..."', 'Call registry_add {"key": "nope", "title": "..."}.'],
    ['jit registry show tests', 'Call registry_list (it includes gate tests).'],
    ['Run `jit validate --fix` to rebuild it from the issue files.', 'Call validate {"fix": true} to rebuild it from the issue files.'],
    ['Finish the dependencies first, or remove them with `jit dep rm`.', 'Finish the dependencies first, or remove them with dep_remove.'],
    ['Run `jit init` in your project folder.', "Have a person run the jit CLI's init command (no MCP tool) in your project folder."],
    ['e.g. with `jit debug locks`, and end it.', "e.g. with the jit CLI's debug locks command (no MCP tool), and end it."],
    ['Try `jit frobnicate --hard`.', "Try the jit CLI's frobnicate command (no MCP tool)."],
    ['Or pass --dir PATH / set JIT_DIR.', 'Or set JIT_DIR (or pass --dir PATH) in the configuration that starts this MCP server.'],
    ['Give more characters of the id.', 'Give more characters of the id.'],
  ])('%j -> %j', (suggestion, translated) => {
    expect(translateSuggestion(suggestion)).toBe(translated);
  });
});
