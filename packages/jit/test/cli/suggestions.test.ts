/**
 * Every command line a suggestion can render (store/suggestions.ts) is one the
 * CLI accepts: its command words name a command of the commander tree, it
 * gives no more arguments than the command takes, and every option is one of
 * the command's (as the built CLI's `--schema` describes them). Renaming a
 * command or a flag fails here, not in a hint an agent or a person follows.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandLine } from '../../src/store/suggestions.js';
import type { CommandSchema } from '../../src/cli/schema.js';
import { SAMPLES } from '../support/operation-samples.js';
import { JIT_BIN } from './helpers.js';

function flatten(commands: readonly CommandSchema[]): CommandSchema[] {
  return commands.flatMap((command) => [command, ...flatten(command.commands)]);
}

/** Splits a command line into words, keeping "quoted text" together. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}

describe('suggested command lines', () => {
  // The built CLI's own description of its commands (`jit --schema`, read from the commander tree).
  const schema = JSON.parse(execFileSync(process.execPath, [JIT_BIN, '--schema'], { encoding: 'utf8' })) as { commands: CommandSchema[] };
  const byPath = new Map<string, CommandSchema>();
  for (const command of flatten(schema.commands)) for (const name of [command.name, ...command.aliases]) byPath.set(`${command.path.split(' ').slice(0, -1).concat(name).join(' ')}`, command);

  it.each(Object.values(SAMPLES).map((sample) => [sample.op, commandLine(sample)]))('%s -> %s is a command the CLI accepts', (_op, line) => {
    const [jit, ...rest] = words(line);
    expect(jit).toBe('jit');
    let length = 0;
    for (let n = 1; n <= rest.length; n++) if (byPath.has(rest.slice(0, n).join(' '))) length = n;
    const target = byPath.get(rest.slice(0, length).join(' '));
    expect(target?.runnable, `no command for ${line}`).toBe(true);
    const options = new Map(target!.options.map((option) => [option.long, option]));
    const positional: string[] = [];
    const tail = rest.slice(length);
    for (let i = 0; i < tail.length; i++) {
      const word = tail[i]!;
      if (!word.startsWith('--')) {
        positional.push(word);
        continue;
      }
      const option = options.get(word);
      expect(option, `${word} is not an option of jit ${target!.path}`).toBeDefined();
      if (option!.type !== 'boolean') i++; // its value
    }
    expect(positional.length).toBeLessThanOrEqual(target!.arguments.length);
  });
});
