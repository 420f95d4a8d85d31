// The CLI's own surface: help, version, --schema, usage errors (exit 2) and colour.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf, REPO, tempProject } from './helpers.js';

const project = tempProject();
afterAll(() => project.remove());

interface CommandSchema {
  path: string;
  runnable: boolean;
  arguments: Array<{ name: string; required: boolean; choices?: string[] }>;
  options: Array<{ name: string; long?: string; type: string; required: boolean; choices?: string[]; help: string }>;
  commands: CommandSchema[];
}

function flatten(commands: CommandSchema[]): CommandSchema[] {
  return commands.flatMap((command) => [command, ...flatten(command.commands)]);
}

describe.concurrent('jit surface', () => {
  it('--help works without a .jit/ and exits 0', async () => {
    const help = await project.run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: jit \[options\] \[command\]/);
    for (const group of ['init', 'issue', 'dep', 'registry', 'gate', 'query', 'status', 'events', 'graph', 'validate', 'debug', 'mcp', 'serve']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${group}\\b`, 'm'));
    }
    const sub = await project.run(['issue', 'create', '--help']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('--title <title>');
    expect(sub.stdout).toContain('--json'); // global options are shown on every command
    expect((await project.run(['help', 'query'])).code).toBe(0);
  });

  it('help resolves the whole command path and names an unknown command', async () => {
    const direct = (await project.run(['issue', 'create', '--help'])).stdout;
    expect(direct).toMatch(/^Usage: jit issue create \[options\]/);
    for (const args of [['help', 'issue', 'create'], ['issue', 'help', 'create'], ['help', 'issue', 'create', '--json']]) {
      expect(await project.run(args)).toMatchObject({ code: 0, stdout: direct, stderr: '' });
    }
    const full = (await project.run(['--help'])).stdout;
    // -h before the command word is the program's help (commander's reading), and must list every group.
    for (const args of [['help'], ['-h', 'issue'], ['--dir', '.', '-h', 'status'], ['bogus', '--help']]) {
      expect(await project.run(args), args.join(' ')).toMatchObject({ code: 0, stdout: full, stderr: '' });
    }
    expect((await project.run(['help', 'issue'])).stdout).toBe((await project.run(['issue', '--help'])).stdout);
    for (const [args, unknown, usage] of [
      [['help', 'bogus'], 'bogus', 'jit --help'],
      [['help', 'issue', 'bogus'], 'issue bogus', 'jit issue --help'],
      [['issue', 'help', 'bogus'], 'issue bogus', 'jit issue --help'],
    ] as const) {
      const human = await project.run(args);
      expect(human.code).toBe(2);
      expect(human.stderr).toBe(`jit: error: unknown command '${unknown}' Hint: Run \`${usage}\` for the commands. [INVALID_ARGUMENT]\n`);
      const json = await project.run(['--json', ...args]);
      expect(json.code).toBe(2);
      expect(errorOf(json)).toMatchObject({ code: 'INVALID_ARGUMENT', message: `unknown command '${unknown}'` });
    }
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const run = await project.run(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
    for (const args of [['--version', '--json'], ['--json', '-V']]) {
      const json = await project.run(args);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ version });
    }
    // Answered wherever it stands before `--`, whatever else is on the line, as soon as it is read.
    for (const args of [['issue', '--version'], ['bogus', '--bogus', '-V'], ['--dir', '.', '--version'], ['--version', '--dir', ''], ['-Vh']]) {
      expect(await project.run(args), args.join(' ')).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
    expect(errorOf(await project.run(['--json', '--dir', '', '--version']))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/--dir needs a path/) });
    expect(errorOf(await project.run(['--json', '--', '--version']))).toMatchObject({ code: 'INVALID_ARGUMENT', message: "unknown command '--version'" });
  });

  it('--schema describes every command, argument and option from the commander tree', async () => {
    const run = await project.run(['--schema']);
    expect(run.code).toBe(0);
    const schema = JSON.parse(run.stdout) as { name: string; version: string; global_options: CommandSchema['options']; commands: CommandSchema[] };
    expect(schema.name).toBe('jit');
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(schema.version).toBe(version);
    expect(Object.keys(schema)).toEqual(['name', 'version', 'help', 'global_options', 'commands']);
    expect(schema.global_options.map((option) => option.long)).toEqual(expect.arrayContaining(['--json', '--dir', '--schema']));
    const byPath = new Map(flatten(schema.commands).map((command) => [command.path, command]));
    const expected = [
      'init', 'issue create', 'issue list', 'issue search', 'issue show', 'issue update', 'issue delete', 'issue assign',
      'issue claim', 'issue unassign', 'issue release', 'issue claim-next', 'dep add', 'dep rm', 'registry add',
      'registry list', 'registry show', 'registry remove', 'gate add', 'gate pass', 'gate fail', 'query all',
      'query ready', 'query blocked', 'query state', 'query assignee', 'query priority', 'query label', 'status',
      'events tail', 'events query', 'graph show', 'graph downstream', 'graph roots', 'graph export', 'validate',
      'debug locks', 'mcp', 'serve', 'issue batch-create',
    ];
    for (const commandPath of expected) expect(byPath.get(commandPath)?.runnable, commandPath).toBe(true);
    expect(byPath.get('issue')?.runnable).toBe(false);
    const serve = byPath.get('serve')!;
    expect(serve.options.map((option) => option.long)).toEqual(expect.arrayContaining(['--port', '--host', '--token', '--as', '--open']));
    expect(serve.options.find((option) => option.long === '--port')).toMatchObject({ type: 'integer' });

    const create = byPath.get('issue create')!;
    expect(create.options.find((option) => option.long === '--title')).toMatchObject({ name: 'title', type: 'string', required: true });
    expect(create.options.find((option) => option.long === '--label')).toMatchObject({ type: 'string[]', required: false });
    expect(create.options.find((option) => option.long === '--priority')?.choices).toEqual(['low', 'normal', 'high', 'critical']);
    expect(create.options.find((option) => option.long === '--context')?.type).toBe('key=value[]');
    expect(byPath.get('issue update')!.arguments).toEqual([expect.objectContaining({ name: 'id', required: false })]); // or --filter
    expect(byPath.get('issue show')!.arguments).toEqual([expect.objectContaining({ name: 'ids', required: true, variadic: true })]);
    expect(byPath.get('issue batch-create')!.options.find((option) => option.long === '--from-json')).toMatchObject({ required: true });
    expect(byPath.get('graph export')!.options.find((option) => option.long === '--format')).toMatchObject({
      required: true,
      choices: ['dot', 'mermaid'],
    });
    expect(byPath.get('events tail')!.options[0]).toMatchObject({ long: '--lines', type: 'integer', default: 20 });
    expect(byPath.get('query state')!.arguments[0]!.choices).toContain('in_progress');
  });

  it.each([
    [['issue', 'create'], /--title/],
    [['issue', 'show'], /missing required argument 'ids'/],
    [['issue', 'list', '--bogus'], /unknown option '--bogus'/],
    // An unknown option before `help` is an error too, not a help request (commander's reading, see argv.ts).
    [['--bogus', 'help'], /unknown option '--bogus'/],
    [['issue', '--bogus', 'help', 'create'], /unknown option '--bogus'/],
    [['isue', 'list'], /unknown command 'isue'/],
    [['issue', 'delete', 'a', 'b'], /too many arguments/],
    [['graph', 'export', '--format', 'png'], /Allowed choices are dot, mermaid/],
    [['events', 'tail', '-n', 'many'], /whole number/],
    [['events', 'tail', '-n', '0'], /whole number/],
    [['events', 'query', '--type', 'nope'], /Unknown event type/],
    [['issue', 'update', '0000', '--context', 'novalue'], /key=value/],
    [['issue', 'update', '0000', '--priority', 'urgent'], /Unknown priority/],
    [['query', 'state', 'finished'], /Unknown state/],
    [['--dir', '', 'status'], /--dir needs a path/],
    [['--dir=', 'query', 'ready'], /--dir needs a path/],
    [['issue', 'list', '--dir', ' '], /--dir needs a path/],
    [['init', '--dir', ''], /--dir needs a path/],
    [['issue'], /subcommand is required/],
    [[], /subcommand is required/],
  ])('usage error %j exits 2 with one line on stderr and JSON on stdout', async (args, message) => {
    const human = await project.run(args);
    expect(human.code).toBe(2);
    expect(human.stderr.split('\n').find((line) => line.startsWith('jit: error:'))).toMatch(message);
    const json = await project.run(['--json', ...args]);
    expect(json.code).toBe(2);
    expect(errorOf(json)).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(errorOf(json).suggestions.length).toBeGreaterThan(0);
  });
});
