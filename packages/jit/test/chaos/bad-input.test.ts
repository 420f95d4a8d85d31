// Bad input, generated: arbitrary strings as ids, titles, labels, state and
// priority names, option values and JIT_LOCK_TIMEOUT. Each run either
// succeeds or fails with a documented code; never a stack trace, never a file
// touched outside .jit/, never a corrupt store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENTED_EXIT_CODES, cli, hasStackTrace, jit, makeProject, report, snapshot, store, tempDir } from './support.js';

const CLI_RUNS = 25;
const IN_PROCESS_RUNS = 400;

// Strings an attacker or a confused agent might pass, plus random ones.
const hostile = fc.constantFrom(
  '../../x', '../issues/../../../etc/passwd', '/etc/passwd', '/tmp', '..', '.', 'C:\\Windows\\x', '\\\\server\\share',
  '-', '--', '--help', '-x', '%s%s%n', '$(touch /tmp/pwned)', '`id`', ' ', '\t', '\n', '0000', 'ffff', 'in-progress',
  'open', 'DONE', ' ready', 'archived', 'critical', 'ÿÿÿÿ', '💥', 'a'.repeat(10_000), 'k=v', '=', 'kind:name', ':',
);
const anyString = fc.oneof(hostile, fc.string(), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme-ascii' }));
// argv and env cannot carry NUL; the in-process property covers it.
const argString = anyString.filter((s) => !s.includes('\0'));

// The documented table: every error code and the exit code it must produce.
const EXIT_CODE_BY_ERROR: Record<string, number> = cli.EXIT_CODE_BY_ERROR;
const KNOWN_CODES = new Set(Object.keys(EXIT_CODE_BY_ERROR));

describe('bad input (fast-check)', () => {
  let sandbox: string;
  let project: string;
  let jitDir: string;
  let target: string;
  let outside: Map<string, string>;
  let runs = 0;

  beforeAll(async () => {
    sandbox = tempDir('fuzz');
    ({ project, jitDir } = makeProject('fuzz', sandbox));
    fs.writeFileSync(path.join(sandbox, 'x'), 'bystander'); // what ../../x would hit
    const tracker = store.openTracker(jitDir);
    await tracker.addGateDefinition({ key: 'review', title: 'Review' });
    target = (await tracker.createIssue({ title: 'target', gates: ['review'] })).id;
    outside = snapshot(sandbox, jitDir);
  });

  /** One CLI run's contract. */
  function checkRun(args: string[], env: NodeJS.ProcessEnv = {}): void {
    runs++;
    const r = jit(project, args, env);
    expect(DOCUMENTED_EXIT_CODES.has(r.status ?? -1), `exit ${r.status} for ${JSON.stringify(args)}`).toBe(true);
    expect(hasStackTrace(r.stdout + r.stderr), r.stderr).toBe(false);
    if (r.stdout.startsWith('Usage: jit ')) {
      // A value that reached commander as --help / -h is an explicit help request: it wins, as in every CLI.
      expect(args.some((a) => a === '--help' || a === '-h')).toBe(true);
      expect(r.status).toBe(0);
      return;
    }
    expect(r.json, `stdout must be JSON: ${r.stdout}`).toBeDefined();
    if (r.status !== 0) {
      expect(KNOWN_CODES.has(r.json.error?.code), `code ${r.json.error?.code}`).toBe(true);
      expect(r.status, `exit code of ${r.json.error.code}`).toBe(EXIT_CODE_BY_ERROR[r.json.error.code]);
      expect(r.stderr, '--json: nothing but the JSON error').toBe('');
      expect(r.status === 1, `generic failure for ${JSON.stringify(args)}: ${r.stdout}`).toBe(false);
    }
  }

  const cliCases: [string, (s: string) => string[], NodeJS.ProcessEnv?][] = [
    ['id', (s) => ['issue', 'show', s]],
    ['title', (s) => ['issue', 'create', '--title', s]],
    ['label', (s) => ['issue', 'update', target, '--label', s]],
    ['state', (s) => ['issue', 'update', target, '--state', s]],
    ['priority', (s) => ['issue', 'create', '--title', 'p', '--priority', s]],
    ['context', (s) => ['issue', 'update', target, '--context', s]],
    ['dependency', (s) => ['dep', 'add', target, s]],
    ['gate key', (s) => ['gate', 'pass', target, s]],
    ['events -n', (s) => ['events', 'tail', '-n', s]],
    ['query state', (s) => ['query', 'state', s]],
    ['assignee', (s) => ['issue', 'claim', target, s]],
  ];

  for (const [name, args] of cliCases) {
    it(`arbitrary ${name} strings`, () => {
      fc.assert(fc.property(argString, (s) => checkRun(args(s))), { numRuns: CLI_RUNS });
    });
  }

  it('arbitrary JIT_LOCK_TIMEOUT values', () => {
    fc.assert(
      fc.property(fc.oneof(argString, fc.double().map(String), fc.integer().map(String)), (s) => {
        runs++;
        const r = jit(project, ['status'], { JIT_LOCK_TIMEOUT: s });
        expect([0, 2]).toContain(r.status);
        if (r.status === 2) {
          expect(r.json.error.code).toBe('INVALID_ENV');
          expect(r.json.error.message).toContain('JIT_LOCK_TIMEOUT');
        }
        expect(hasStackTrace(r.stdout + r.stderr)).toBe(false);
      }),
      { numRuns: CLI_RUNS },
    );
  });

  it('arbitrary strings, NUL bytes included, into every domain operation in-process', async () => {
    const tracker = store.openTracker(jitDir);
    const ops: ((s: string) => Promise<unknown>)[] = [
      (s) => tracker.getIssue(s),
      (s) => tracker.createIssue({ title: s, labels: [s], priority: s }),
      (s) => tracker.updateIssue(target, { state: s }),
      (s) => tracker.updateIssue(target, { addLabels: [s], context: { [s]: s } }),
      (s) => tracker.addDependency(s, target),
      (s) => tracker.claim(target, s),
      (s) => tracker.passGate(target, s, s),
      (s) => tracker.addGateDefinition({ key: s, title: s }),
      (s) => tracker.queryEvents({ type: s, issueId: s }),
      (s) => tracker.listIssues({ state: s, label: s }),
    ];
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyString, fc.string().map((s) => `${s}\0${s}`)), fc.nat(ops.length - 1), async (s, i) => {
        runs++;
        try {
          await ops[i]!(s);
        } catch (error) {
          expect((error as Error).name, String((error as Error).stack)).toBe('JitError');
          expect(KNOWN_CODES.has((error as { code: string }).code)).toBe(true);
        }
      }),
      { numRuns: IN_PROCESS_RUNS },
    );
  });

  it('left nothing outside .jit/ touched and the store consistent', () => {
    expect(snapshot(sandbox, jitDir)).toEqual(outside);
    expect(fs.readFileSync(path.join(sandbox, 'x'), 'utf8')).toBe('bystander');
    const validate = jit(project, ['validate']);
    expect(validate.status, validate.stdout).toBe(0);
    report('bad input (fast-check)', `${runs} generated inputs over ${cliCases.length + 2} surfaces`, 'documented code every time; no stack trace; nothing outside .jit/ touched; validate clean');
  });
});
