// The argv pre-scanner (argv.ts): every spelling of the global options, and
// agreement with commander's own parse of the program's options, both on the
// listed forms and on thousands of generated lines.
import { Help, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS, HELP_OPTION, scanArgv, type GlobalOption, type GlobalOptionName } from './argv.js';
import { createProgram } from './program.js';

const NAMES = Object.keys(GLOBAL_OPTIONS) as GlobalOptionName[];

interface Reading {
  options: GlobalOption[];
  words: string[];
  rest: string[];
  missingValue?: GlobalOptionName;
}

function scanned(args: readonly string[]): Reading {
  const scan = scanArgv(args);
  return { options: [...scan.options], words: [...scan.words], rest: [...scan.rest], ...(scan.missingValue ? { missingValue: scan.missingValue } : {}) };
}

/**
 * Commander's reading of `args` with the real program's options: the option
 * events in order (recorded instead of acted on, so --version prints
 * nothing and a blank --dir is not refused), its operands and unknown args.
 */
function commanderReading(args: readonly string[]): Reading {
  const program: Command = createProgram();
  // A command of its own: commander reads `-5` as a word, not an option, on a program without commands.
  program.command('status');
  const options: GlobalOption[] = [];
  for (const name of NAMES) {
    (program as unknown as NodeJS.EventEmitter).removeAllListeners(`option:${name}`); // a Command is an EventEmitter
    program.on(`option:${name}`, (value?: string) => options.push(value === undefined ? { name } : { name, value }));
  }
  try {
    const { operands, unknown } = program.parseOptions([...args]);
    return { options, words: operands, rest: unknown };
  } catch (error) {
    expect((error as { code?: string }).code).toBe('commander.optionMissingArgument');
    const option = program.options.find((candidate) => (error as Error).message.includes(`'${candidate.flags}'`))!;
    return { options, words: [], rest: [], missingValue: option.name() as GlobalOptionName };
  }
}

/** Both readings of `args` are the same (up to a missing value, where commander stops without its words). */
function expectAgreement(args: readonly string[]): void {
  const commander = commanderReading(args);
  const scan = scanned(args);
  if (commander.missingValue) {
    const { options, missingValue } = scan;
    expect({ options, missingValue }, JSON.stringify(args)).toEqual({ options: commander.options, missingValue: commander.missingValue });
  } else {
    expect(scan, JSON.stringify(args)).toEqual(commander);
  }
}

describe('scanArgv', () => {
  it.each<[string[], Partial<Reading>]>([
    [['--dir', 'P', 'status'], { options: [{ name: 'dir', value: 'P' }], words: ['status'], rest: [] }],
    [['status', '--dir=P'], { options: [{ name: 'dir', value: 'P' }], words: ['status'] }],
    [['--dir=', 'status'], { options: [{ name: 'dir', value: '' }], words: ['status'] }],
    [['--dir=a=b'], { options: [{ name: 'dir', value: 'a=b' }] }],
    // A value is taken whatever it looks like, as commander does: this folder is named "--json".
    [['--dir', '--json', 'status'], { options: [{ name: 'dir', value: '--json' }], words: ['status'] }],
    [['--dir', 'a', '--dir', 'b'], { options: [{ name: 'dir', value: 'a' }, { name: 'dir', value: 'b' }] }],
    [['status', '--dir'], { options: [], words: ['status'], missingValue: 'dir' }],
    // --json anywhere before `--`, also among a command's own options, and never after `--`.
    [['--json', 'query', 'ready'], { options: [{ name: 'json' }], words: ['query', 'ready'] }],
    [['query', '--json', 'ready'], { options: [{ name: 'json' }], words: ['query', 'ready'] }],
    [['issue', 'create', '-t', 'x', '--json'], { options: [{ name: 'json' }], words: ['issue', 'create'], rest: ['-t', 'x'] }],
    [['issue', 'show', '--', '--json'], { options: [], words: ['issue', 'show', '--json'], rest: [] }],
    [['issue', 'list', '--bogus', '--', '--json'], { options: [], words: ['issue', 'list'], rest: ['--bogus', '--', '--json'] }],
    [['--json=yes', 'status'], { options: [], words: [], rest: ['--json=yes', 'status'] }],
    // The first unknown option ends the command words; global options after it still count.
    [['issue', '--bogus', 'create', '--dir', 'P'], { options: [{ name: 'dir', value: 'P' }], words: ['issue'], rest: ['--bogus', 'create'] }],
    [['--di', 'P'], { options: [], words: [], rest: ['--di', 'P'] }],
    [['-', 'status'], { words: ['-', 'status'], rest: [] }],
    [['-5'], { words: [], rest: ['-5'] }],
    // Help forms: -h is the command's (not a program option), `help` is a word.
    [['-h', 'issue'], { options: [], words: [], rest: ['-h', 'issue'] }],
    [['issue', '--help'], { words: ['issue'], rest: ['--help'] }],
    [['help', 'issue', 'create', '--json'], { options: [{ name: 'json' }], words: ['help', 'issue', 'create'], rest: [] }],
    // Version and schema, also in a group of short flags.
    [['-V'], { options: [{ name: 'version' }] }],
    [['bogus', '--version', '--schema'], { options: [{ name: 'version' }, { name: 'schema' }], words: ['bogus'] }],
    [['-VV'], { options: [{ name: 'version' }, { name: 'version' }], rest: [] }],
    [['-Vh'], { options: [{ name: 'version' }], rest: ['-h'] }],
  ])('%j', (args, expected) => {
    expect(scanned(args)).toMatchObject(expected);
  });

  it('the value the program ends with is the last one given', () => {
    const scan = scanArgv(['--dir', 'a', 'status', '--dir=b', '--json']);
    expect(scan.value('dir')).toBe('b');
    expect(scan.has('json')).toBe(true);
    expect(scan.has('version')).toBe(false);
    expect(scan.value('json')).toBeUndefined();
  });
});

describe('scanArgv agrees with commander', () => {
  it('the program defines exactly GLOBAL_OPTIONS and HELP_OPTION, each a flag or a required value', () => {
    const program = createProgram();
    expect(program.options.map((option) => [option.name(), option.flags, option.description])).toEqual(
      NAMES.map((name) => [name, GLOBAL_OPTIONS[name].flags, GLOBAL_OPTIONS[name].help]),
    );
    for (const option of program.options) {
      expect(option.optional || option.variadic, `${option.flags}: argv.ts reads only flags and <value> options`).toBe(false);
    }
    const helpOption = new Help().visibleOptions(program).at(-1)!;
    expect([helpOption.flags, helpOption.description]).toEqual([HELP_OPTION.flags, HELP_OPTION.help]);
  });

  it.each([
    [['--dir', 'P', 'status', '--json']],
    [['--dir', '--json', 'status']],
    [['-Vx', 'status']],
    [['-V-', 'status']],
    [['issue', 'create', '-t', '--json']],
    [['issue', 'create', '-t', '--dir']],
    [['query', '--bogus', '--', '--dir', 'x']],
    [['--json', '--', '--', '--json']],
    [['-h', '--dir=', '-5', '-', 'x']],
  ])('on %j', (args) => {
    expectAgreement(args);
  });

  it('on generated command lines', () => {
    const vocabulary = [
      'status', 'query', 'ready', 'help', 'x', '-', '--', '--json', '--json=1', '--dir', '--dir=', '--dir=P', '--dir=a=b',
      '-V', '--version', '-VV', '-Vh', '-V-', '-Vx', '--schema', '-h', '--help', '-t', '--title', '--bogus', '-5', '--di',
    ];
    let seed = 20240611; // a fixed linear congruential sequence: the same lines every run
    const next = (bound: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % bound;
    };
    for (let line = 0; line < 3000; line++) {
      const args = Array.from({ length: next(7) }, () => vocabulary[next(vocabulary.length)]!);
      expectAgreement(args);
    }
  });
});
