/**
 * The one reading of the command line that happens before commander's:
 * which global options it holds, which words name the command, and what is
 * left for the command itself. main.ts decides from it whether commander is
 * needed at all (the fast path, --version), program.ts which command groups
 * to load, which help to show and which command a usage error names.
 *
 * It reads the line the way commander parses the program's own options, so
 * both always agree (argv.test.ts compares them on every form):
 * - a global option is recognised anywhere before `--`, even among a
 *   command's options (`issue create -t x --json`);
 * - one that takes a value takes the next argument whatever it looks like
 *   (`--dir --json` names a folder "--json"), or the text after `=`;
 * - a short one may lead a group (`-Vx` is -V, then `-x`);
 * - the first option the program does not know ends the command words: it
 *   and everything after it, global options taken out, are the command's.
 *
 * GLOBAL_OPTIONS is the program's definition of its options: program.ts
 * builds them from it, so the scan cannot drift from what commander parses.
 */

/** The program's own options, in help order, each keyed by its commander name (the long flag without its dashes). */
export const GLOBAL_OPTIONS = {
  version: { flags: '-V, --version', help: 'print the version ({"version": ...} with --json)' },
  json: { flags: '--json', help: 'print only JSON on stdout, errors as {"error": {...}} (also accepted after any command)' },
  dir: { flags: '--dir <path>', help: 'the .jit directory or the project holding it (default: $JIT_DIR, then the nearest .jit/ above)' },
  schema: { flags: '--schema', help: 'print a JSON description of every command, argument and option, then exit' },
} as const satisfies Record<string, { flags: string; help: string }>;

export type GlobalOptionName = keyof typeof GLOBAL_OPTIONS;

/** Help on every command (commander's help option: recognised by each command among its own arguments). */
export const HELP_OPTION = { flags: '-h, --help', help: 'show help' } as const;

/** `jit help issue create`: help for the command path that follows. */
export const HELP_COMMAND = { name: 'help', help: 'show help for a command (e.g. help issue create)' } as const;

/**
 * Each global flag (-V, --version, --dir, ...) with its option and whether it
 * takes a value, read from its commander flags. Only `<value>` options are
 * understood: argv.test.ts fails if a global option is made optional
 * (`[value]`) or variadic, whose reading commander makes depend on the
 * commands' options.
 */
const FLAGS: ReadonlyMap<string, { name: GlobalOptionName; takesValue: boolean }> = new Map(
  (Object.keys(GLOBAL_OPTIONS) as GlobalOptionName[]).flatMap((name) => {
    const { flags } = GLOBAL_OPTIONS[name];
    const takesValue = flags.includes('<');
    return flags
      .split(/[ |,]+/)
      .filter((flag) => flag.startsWith('-'))
      .map((flag) => [flag, { name, takesValue }] as const);
  }),
);

/** What commander counts as an option rather than a word (a lone `-` is a word). */
function looksLikeOption(arg: string): boolean {
  return arg.length > 1 && arg.startsWith('-');
}

export interface GlobalOption {
  name: GlobalOptionName;
  /** The value of an option that takes one (possibly empty: `--dir=`). */
  value?: string;
}

export class ArgvScan {
  constructor(
    /** The global options given, in order, with their values. */
    readonly options: readonly GlobalOption[],
    /** The words before the first option the program does not know (and all after `--`): the command path, then its arguments. */
    readonly words: readonly string[],
    /** The first option the program does not know and everything after it, global options taken out: the command's to parse. */
    readonly rest: readonly string[],
    /** A global option that needs a value but ended the line (commander reports it as a usage error). */
    readonly missingValue?: GlobalOptionName,
  ) {}

  has(name: GlobalOptionName): boolean {
    return this.options.some((option) => option.name === name);
  }

  /** The value the program ends up with: the last one given. */
  value(name: GlobalOptionName): string | undefined {
    return this.options.findLast((option) => option.name === name)?.value;
  }
}

/** Reads `args` (the command line after `node jit`). Never throws: judging the line is commander's job. */
export function scanArgv(args: readonly string[]): ArgvScan {
  const options: GlobalOption[] = [];
  const words: string[] = [];
  const rest: string[] = [];
  let missingValue: GlobalOptionName | undefined;
  let inRest = false;
  let group: string | undefined; // the remainder of a short-flag group (`-x` of `-Vx`), read next
  let i = 0;
  while (i < args.length || group !== undefined) {
    const arg = group ?? args[i++]!;
    group = undefined;
    if (arg === '--') {
      if (inRest) rest.push(arg);
      (inRest ? rest : words).push(...args.slice(i));
      break;
    }
    const flag = FLAGS.get(arg);
    if (flag) {
      if (!flag.takesValue) options.push({ name: flag.name });
      else if (i < args.length) options.push({ name: flag.name, value: args[i++]! });
      else missingValue = flag.name;
      continue;
    }
    const leading = arg.length > 2 && arg[0] === '-' && arg[1] !== '-' ? FLAGS.get(arg.slice(0, 2)) : undefined;
    if (leading) {
      if (leading.takesValue) {
        options.push({ name: leading.name, value: arg.slice(2) });
      } else {
        options.push({ name: leading.name });
        group = `-${arg.slice(2)}`;
      }
      continue;
    }
    const equals = arg.indexOf('=');
    const withValue = arg.startsWith('--') && equals > 2 ? FLAGS.get(arg.slice(0, equals)) : undefined;
    if (withValue?.takesValue) {
      options.push({ name: withValue.name, value: arg.slice(equals + 1) });
      continue;
    }
    if (looksLikeOption(arg)) inRest = true;
    (inRest ? rest : words).push(arg);
  }
  return new ArgvScan(options, words, rest, missingValue);
}
