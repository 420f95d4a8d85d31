// Happy paths of every command, through the built binary, with their --json shapes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayWidth } from '../../src/cli/text-width.js';
import { runJit, runJitOnTty, projectsForThisFile } from './helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const projects = projectsForThisFile();
const project = projects.initialized;

describe.concurrent('jit commands', () => {
  it('init creates .jit/ once and says so when it already exists', async () => {
    const fresh = projects.empty();
    const first = await fresh.run(['init']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Initialized/);
    expect(existsSync(path.join(fresh.dir, '.jit'))).toBe(true);
    const again = await fresh.run(['init']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already exists/);
    const json = await fresh.json(['init']);
    expect(json).toEqual({ path: expect.stringContaining('.jit'), created: false, repaired: [] });
  });

  it('issue create, show, list and search', async () => {
    const p = await project();
    const human = await p.run(['issue', 'create', '--title', 'Write the parser']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Created [0-9a-f]{8} Write the parser \[ready\]\n$/);

    const created = await p.json([
      'issue', 'create', '-t', 'Fix login', '-d', 'Users cannot log in', '-p', 'high',
      '-l', 'area:auth', '-l', 'kind:bug', '--context', 'branch=fix/login', '--assignee', 'agent:w1',
    ]);
    expect(created).toMatchObject({
      title: 'Fix login',
      description: 'Users cannot log in',
      state: 'ready',
      priority: 'high',
      assignee: 'agent:w1',
      labels: ['area:auth', 'kind:bug'],
      context: { branch: 'fix/login' },
      dependencies: [],
      gates_required: [],
    });
    expect(created.id).toMatch(UUID);
    expect(created.changed).toBe(true);

    const shown = await p.json(['issue', 'show', created.id.slice(0, 6)]);
    expect({ ...shown, changed: true }).toEqual(created);
    const shownHuman = await p.run(['issue', 'show', created.id.slice(0, 8)]);
    expect(shownHuman.stdout).toContain(created.id);
    expect(shownHuman.stdout).toMatch(/title:\s+Fix login/);
    expect(shownHuman.stdout).toContain('Users cannot log in');

    const list = await p.json(['issue', 'list']);
    expect(list.count).toBe(2);
    expect(list.issues).toHaveLength(2);
    expect(list.issues.map((issue: { title: string }) => issue.title).sort()).toEqual(['Fix login', 'Write the parser']);
    const [byPriority, byLabel, byAssignee, byState] = await Promise.all([
      p.json(['issue', 'list', '--priority', 'high']),
      p.json(['issue', 'list', '--label', 'kind:bug']),
      p.json(['issue', 'list', '--assignee', 'agent:w1']),
      p.json(['issue', 'list', '--state', 'ready']),
    ]);
    for (const filtered of [byPriority, byLabel, byAssignee]) {
      expect(filtered.issues.map((issue: { id: string }) => issue.id)).toEqual([created.id]);
    }
    expect(byState.count).toBe(2);

    const table = await p.run(['issue', 'list']);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+PRIORITY\s+ASSIGNEE\s+TITLE$/);
    expect(lines).toHaveLength(3);
    // Columns line up: every row has its title where the header has TITLE.
    const titleColumn = lines[0]!.indexOf('TITLE');
    for (const row of lines.slice(1)) expect(row.slice(titleColumn)).toMatch(/^(Fix login|Write the parser)$/);
    expect(lines[1]).toMatch(/^[0-9a-f]{8} {2}/);
    expect(table.stdout).not.toContain('\u001b['); // not a TTY: no colour

    const found = await p.json(['issue', 'search', 'LOG IN']);
    expect(found).toMatchObject({ count: 1, issues: [{ id: created.id }] });
  });

  it('issue update merges labels and context and accepts state spellings', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Old title', '-l', 'a:1', '-l', 'b:2', '-c', 'keep=yes', '-c', 'drop=me']);
    const updated = await p.json([
      'issue', 'update', issue.id, '--title', 'New title', '--priority', 'critical', '--label', 'c:3',
      '--remove-label', 'a:1', '--context', 'drop=', '--context', 'new=value', '--state', 'in-progress',
    ]);
    expect(updated).toMatchObject({
      title: 'New title',
      priority: 'critical',
      state: 'in_progress',
      labels: ['b:2', 'c:3'],
      context: { keep: 'yes', new: 'value' },
    });
    for (const spelling of ['inprogress', 'in_progress', 'IN-PROGRESS']) {
      expect((await p.json(['issue', 'update', issue.id, '--state', spelling])).state).toBe('in_progress');
    }
    expect((await p.json(['issue', 'update', issue.id, '--state', 'open'])).state).toBe('backlog');
    const human = await p.run(['issue', 'update', issue.id.slice(0, 5), '-d', 'More words']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Updated [0-9a-f]{8} New title/);
  });

  it('issue show prints one line per context key, each value on one line', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Context', '-c', 'notes=line1\nline2\n  line3', '-c', 'k=v, x=y']);
    expect(issue.context).toEqual({ notes: 'line1\nline2\n  line3', k: 'v, x=y' });
    const shown = await p.run(['issue', 'show', issue.id]);
    expect(shown.code).toBe(0);
    const lines = shown.stdout.split('\n');
    const at = lines.findIndex((line) => line.startsWith('context:'));
    expect(lines[at]).toBe('context:    notes=line1 line2 line3');
    expect(lines[at + 1]).toBe('            k=v, x=y');
    expect(lines[at + 2]).toMatch(/^created:\s+\d{4}-/);
    const plain = await p.run(['issue', 'show', (await p.json(['issue', 'create', '-t', 'No context'])).id]);
    expect(plain.stdout).toMatch(/^context:\s+-$/m);
  });

  it('assign, claim, unassign, release, claim-next and delete', async () => {
    const p = await project();
    const [low, high] = await Promise.all([
      p.json(['issue', 'create', '-t', 'Low', '-p', 'low', '-l', 'team:x']),
      p.json(['issue', 'create', '-t', 'High', '-p', 'high']),
    ]);
    expect((await p.json(['issue', 'assign', low.id, 'human:ann'])).assignee).toBe('human:ann');
    expect((await p.json(['issue', 'unassign', low.id])).assignee).toBeNull();

    const claimed = await p.json(['issue', 'claim', low.id, 'agent:a']);
    expect(claimed).toMatchObject({ assignee: 'agent:a', state: 'in_progress' });
    const released = await p.json(['issue', 'release', low.id, 'blocked on credentials']);
    expect(released).toMatchObject({ assignee: null, state: 'ready' });

    const next = await p.json(['issue', 'claim-next', 'agent:b']);
    expect(next).toMatchObject({ id: high.id, assignee: 'agent:b', state: 'in_progress' });
    const filtered = await p.json(['issue', 'claim-next', 'agent:c', '--label', 'team:x', '--priority', 'low']);
    expect(filtered.id).toBe(low.id);

    const deleted = await p.json(['issue', 'delete', low.id.slice(0, 8)]);
    expect(deleted).toEqual({ id: low.id, changed: true });
    expect((await p.json(['query', 'all'])).issues.map((issue: { id: string }) => issue.id)).toEqual([high.id]);
    const humanDelete = await p.run(['issue', 'delete', high.id]);
    expect(humanDelete.stdout).toBe(`Deleted ${high.id.slice(0, 8)}\n`);
  });

  it('dep add/rm move issues between backlog and ready', async () => {
    const p = await project();
    const [waiting, prerequisite] = await Promise.all([
      p.json(['issue', 'create', '-t', 'Ship']),
      p.json(['issue', 'create', '-t', 'Build']),
    ]);
    const added = await p.json(['dep', 'add', waiting.id, prerequisite.id]);
    expect(added).toMatchObject({ id: waiting.id, dependencies: [prerequisite.id], state: 'backlog' });

    const blocked = await p.json(['query', 'blocked']);
    expect(blocked.count).toBe(1);
    expect(blocked.issues[0]).toMatchObject({ id: waiting.id, reasons: [expect.stringContaining(prerequisite.id.slice(0, 8))] });
    expect((await p.json(['query', 'ready'])).issues.map((issue: { id: string }) => issue.id)).toEqual([prerequisite.id]);
    const urgent = await p.json(['issue', 'create', '-t', 'Urgent', '--priority', 'critical']);
    expect((await p.json(['query', 'ready', '--limit', '1'])).issues.map((issue: { id: string }) => issue.id)).toEqual([urgent.id]);
    expect((await p.json(['query', 'ready', '--limit', '5'])).count).toBe(2);
    await p.json(['issue', 'delete', urgent.id]);

    await p.json(['issue', 'update', prerequisite.id, '--state', 'done']);
    expect((await p.json(['issue', 'show', waiting.id])).state).toBe('ready');

    const removed = await p.json(['dep', 'rm', waiting.id, prerequisite.id]);
    expect(removed.dependencies).toEqual([]);
    const created = await p.json(['issue', 'create', '-t', 'After ship', '--dep', waiting.id]);
    expect(created).toMatchObject({ dependencies: [waiting.id], state: 'backlog' });
  });

  it('registry and gates: done waits for the gates, the last pass completes', async () => {
    const p = await project();
    const gate = await p.json(['registry', 'add', 'tests', '--title', 'Tests pass', '--description', 'npm test', '--auto']);
    expect(gate).toEqual({ key: 'tests', title: 'Tests pass', description: 'npm test', auto: true, changed: true });
    await p.json(['registry', 'add', 'review', '-t', 'Code review']);
    const list = await p.json(['registry', 'list']);
    expect(list.count).toBe(2);
    expect(list.gates.map((g: { key: string }) => g.key).sort()).toEqual(['review', 'tests']);
    expect(await p.json(['registry', 'show', 'review'])).toEqual({ key: 'review', title: 'Code review', description: '', auto: false });
    expect((await p.run(['registry', 'list'])).stdout).toMatch(/^KEY\s+AUTO\s+TITLE\n/);

    const issue = await p.json(['issue', 'create', '-t', 'Gated work', '--gate', 'tests']);
    expect(issue.gates_required).toEqual(['tests']);
    const withReview = await p.json(['gate', 'add', issue.id, 'review']);
    expect(withReview.gates_required).toEqual(['tests', 'review']);

    const failed = await p.json(['gate', 'fail', issue.id, 'tests', '--by', 'agent:ci']);
    expect(failed.gates_status.tests).toMatchObject({ status: 'failed', updated_by: 'agent:ci' });
    await p.json(['gate', 'pass', issue.id, 'tests', '--by', 'agent:ci']);

    const gated = await p.json(['issue', 'update', issue.id, '--state', 'done']);
    expect(gated).toMatchObject({ state: 'gated', pending_gates: ['review'] });
    expect((await p.json(['issue', 'show', issue.id])).state).toBe('gated');

    const done = await p.json(['gate', 'pass', issue.id, 'review', '--by', 'human:ann']);
    expect(done.state).toBe('done');
    expect((await p.run(['--json', 'registry', 'remove', 'review'])).code).toBe(4); // the issue still requires it
    expect(await p.json(['registry', 'remove', 'review', '--drop-requirements'])).toEqual({ key: 'review', changed: true, requirements_dropped: [issue.id] });
    expect((await p.json(['registry', 'list'])).count).toBe(1);
  });

  it('query all|ready|blocked|state|assignee|priority|label and status', async () => {
    const p = await project();
    const a = await p.json(['issue', 'create', '-t', 'A', '-p', 'critical', '-l', 'x:y']);
    const b = await p.json(['issue', 'create', '-t', 'B', '--dep', a.id]);
    const c = await p.json(['issue', 'create', '-t', 'C']);
    await p.json(['issue', 'claim', c.id, 'agent:z']);

    const [all, ready, blocked, inProgress, backlog, byAssignee, critical, labelled, status] = await Promise.all([
      p.json(['query', 'all']),
      p.json(['query', 'ready']),
      p.json(['query', 'blocked']),
      p.json(['query', 'state', 'in-progress']),
      p.json(['query', 'state', 'open']),
      p.json(['query', 'assignee', 'agent:z']),
      p.json(['query', 'priority', 'critical']),
      p.json(['query', 'label', 'x:y']),
      p.json(['status']),
    ]);
    const ids = (list: { issues: Array<{ id: string }> }) => list.issues.map((issue) => issue.id);
    expect(all.count).toBe(3);
    expect(ids(ready)).toEqual([a.id]);
    expect(ids(blocked)).toEqual([b.id]);
    expect(ids(inProgress)).toEqual([c.id]);
    expect(ids(backlog)).toEqual([b.id]);
    expect(ids(byAssignee)).toEqual([c.id]);
    expect(ids(critical)).toEqual([a.id]);
    expect(ids(labelled)).toEqual([a.id]);
    expect(status).toEqual({
      total: 3,
      by_state: { backlog: 1, ready: 1, in_progress: 1, gated: 0, done: 0, rejected: 0, archived: 0 },
      lapsed_claims: 0,
      ready: 1,
      blocked: 1,
      backend: 'files',
    });

    const human = await p.run(['status']);
    expect(human.stdout).toMatch(/^backlog:\s+1$/m);
    expect(human.stdout).toMatch(/^total:\s+3$/m);
    // --json after the command works as well as before it.
    expect(JSON.parse((await p.run(['status', '--json'])).stdout)).toEqual(status);
    expect(JSON.parse((await p.run(['query', 'ready', '--json'])).stdout)).toEqual(ready);

    // Wide titles (CJK, emoji) are padded by display width: the next column still lines up.
    await p.json(['issue', 'create', '-t', '日本語のタイトル 🎉', '--dep', a.id]);
    const table = (await p.run(['query', 'blocked'])).stdout.trimEnd().split('\n');
    const column = (line: string) => displayWidth(line.slice(0, line.indexOf('waits for') === -1 ? line.indexOf('BLOCKED BY') : line.indexOf('waits for')));
    expect(table).toHaveLength(3);
    expect(table.map(column)).toEqual([column(table[0]!), column(table[0]!), column(table[0]!)]);
    expect(table[2]).toContain('日本語のタイトル 🎉  waits for');
  });

  it('events tail and query', async () => {
    const p = await project();
    const issue = await p.json(['issue', 'create', '-t', 'Evented']);
    await p.json(['issue', 'claim', issue.id, 'agent:e']);
    await p.json(['issue', 'create', '-t', 'Other']);

    const tail = await p.json(['events', 'tail', '-n', '2']);
    expect(tail.count).toBe(2);
    expect(tail.events).toHaveLength(2);
    expect(tail.events[1]).toMatchObject({ type: 'issue_created', id: expect.stringMatching(UUID), timestamp: expect.any(String) });

    const created = await p.json(['events', 'query', '--type', 'issue_created']);
    expect(created.count).toBe(2);
    const forIssue = await p.json(['events', 'query', '--issue', issue.id.slice(0, 8)]);
    expect(forIssue.events.every((event: { issue_id: string }) => event.issue_id === issue.id)).toBe(true);
    expect(forIssue.events.map((event: { type: string }) => event.type)).toEqual(
      expect.arrayContaining(['issue_created', 'issue_claimed']),
    );
    expect((await p.json(['events', 'query', '--limit', '1'])).count).toBe(1);

    const human = await p.run(['events', 'tail']);
    expect(human.code).toBe(0);
    expect(human.stdout.trimEnd().split('\n').length).toBeGreaterThanOrEqual(3);
    expect(human.stdout).toMatch(/issue_claimed/);
  });

  it('graph show, downstream, roots and export', async () => {
    const p = await project();
    const base = await p.json(['issue', 'create', '-t', 'Base "quoted"']);
    const middle = await p.json(['issue', 'create', '-t', 'Middle', '--dep', base.id]);
    const top = await p.json(['issue', 'create', '-t', 'Top', '--dep', middle.id]);
    const lone = await p.json(['issue', 'create', '-t', 'Lone']);

    const whole = await p.json(['graph', 'show']);
    expect(whole.nodes).toHaveLength(4);
    expect(whole.edges).toEqual(expect.arrayContaining([{ from: middle.id, to: base.id }, { from: top.id, to: middle.id }]));
    const sub = await p.json(['graph', 'show', middle.id.slice(0, 8)]);
    expect(sub.nodes.map((node: { id: string }) => node.id).sort()).toEqual([base.id, middle.id].sort());
    expect(sub.edges).toEqual([{ from: middle.id, to: base.id }]);

    const tree = await p.run(['graph', 'show']);
    expect(tree.stdout).toContain(`${top.id.slice(0, 8)} [backlog] Top\n└── ${middle.id.slice(0, 8)} [backlog] Middle\n    └── ${base.id.slice(0, 8)} [ready] Base "quoted"`);
    expect(tree.stdout).toContain(`${lone.id.slice(0, 8)} [ready] Lone`);

    const downstream = await p.json(['graph', 'downstream', base.id]);
    expect(downstream.issues.map((issue: { id: string }) => issue.id).sort()).toEqual([middle.id, top.id].sort());
    const roots = await p.json(['graph', 'roots']);
    expect(roots.issues.map((issue: { id: string }) => issue.id).sort()).toEqual([base.id, lone.id].sort());

    const dot = await p.run(['graph', 'export', '--format', 'dot']);
    expect(dot.stdout).toMatch(/^digraph jit \{/);
    expect(dot.stdout).toContain(`"${base.id}" -> "${middle.id}";`);
    expect(dot.stdout).toContain('Base \\"quoted\\"');
    const mermaid = await p.run(['graph', 'export', '-f', 'mermaid']);
    expect(mermaid.stdout).toMatch(/^flowchart LR\n/);
    expect(mermaid.stdout).toContain(`i${base.id.replace(/-/g, '')} --> i${middle.id.replace(/-/g, '')}`);
    expect(mermaid.stdout).toContain('#quot;');

    const file = path.join(p.dir, 'graph.dot');
    const written = await p.json(['graph', 'export', '--format', 'dot', '--output', file]);
    expect(written).toEqual({ format: 'dot', output: file, nodes: 4, edges: 2 });
    expect(readFileSync(file, 'utf8')).toBe(dot.stdout);
    const asJson = await p.json(['graph', 'export', '--format', 'mermaid']);
    expect(asJson).toEqual({ format: 'mermaid', content: mermaid.stdout, nodes: 4, edges: 2 });
  });

  it('validate on a healthy store, and debug locks', async () => {
    const p = await project();
    await p.json(['issue', 'create', '-t', 'One']);
    expect(await p.json(['validate'])).toMatchObject({ ok: true, problems: [], fixed: [] });
    const human = await p.run(['validate']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/consistent/);

    const locks = await p.json(['debug', 'locks']);
    expect(locks.locks.length).toBeGreaterThanOrEqual(3);
    const index = locks.locks.find((lock: { path: string }) => lock.path.endsWith('.index.lock'));
    expect(index).toMatchObject({ state: 'unlocked', holders: [] });
    expect((await p.run(['debug', 'locks'])).stdout).toMatch(/\.index\.lock/);
  });

  it('finds .jit/ by walking up, via --dir and via JIT_DIR', async () => {
    const p = await project();
    await p.json(['issue', 'create', '-t', 'Found']);
    const nested = path.join(p.dir, 'src', 'deep');
    mkdirSync(nested, { recursive: true });
    const elsewhere = projects.empty();

    const [walked, viaDir, viaEnv, viaDirAfter] = await Promise.all([
      runJit(['--json', 'status'], { cwd: nested }),
      elsewhere.run(['--json', '--dir', p.jitDir, 'status']),
      elsewhere.run(['--json', 'status'], { JIT_DIR: p.jitDir }),
      elsewhere.run(['status', '--json', '--dir', p.jitDir]),
    ]);
    for (const run of [walked, viaDir, viaEnv, viaDirAfter]) {
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).total).toBe(1);
    }
  });

  // The pseudo-terminal comes from util-linux `script`, whose flags differ elsewhere.
  it.runIf(process.platform === 'linux')('colours on a terminal only, and never with NO_COLOR', async () => {
    const p = await project();
    await p.json(['issue', 'create', '-t', 'Coloured']);
    const [tty, noColor, piped] = await Promise.all([
      runJitOnTty(['issue', 'list'], { cwd: p.dir }),
      runJitOnTty(['issue', 'list'], { cwd: p.dir, env: { NO_COLOR: '1' } }),
      p.run(['issue', 'list']),
    ]);
    expect(tty.code).toBe(0);
    expect(tty.stdout).toContain('Coloured');
    expect(tty.stdout).toContain('\u001b[');
    expect(noColor.stdout).toContain('Coloured');
    expect(noColor.stdout).not.toContain('\u001b[');
    expect(piped.stdout).not.toContain('\u001b[');
  });

  it('text jit did not write (an issue file from a pull, an editor) never sends control characters to the terminal', async () => {
    const p = await project();
    const { id } = await p.json(['issue', 'create', '-t', 'plain', '-c', 'k=v']);
    const file = path.join(p.jitDir, 'issues', `${id}.json`);
    const issue = JSON.parse(readFileSync(file, 'utf8'));
    // A terminal obeys these: set the window title, clear the screen, ring, move the cursor (C1 CSI).
    const hostile = 'evil \u001b]0;pwned\u0007 \u001b[2J \u0000 \u007f \u009b31m end';
    writeFileSync(file, JSON.stringify({ ...issue, title: hostile, description: `line one ${hostile}\nline two`, context: { k: hostile } }, null, 2) + '\n');
    expect((await p.run(['validate', '--fix'])).code).toBe(0);
    const outputs = await Promise.all([
      p.run(['issue', 'list']),
      p.run(['query', 'ready']),
      p.run(['issue', 'show', id]),
      p.run(['issue', 'update', id, '--priority', 'high']),
    ]);
    for (const run of outputs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain('evil ');
      // Shown, not obeyed: as \xNN (line breaks and tabs of the layout itself aside).
      expect(run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
      expect(run.stdout).toContain('\\x1b');
    }
    // JSON keeps the text exactly.
    expect((await p.json(['issue', 'show', id])).title).toBe(hostile);
    if (process.platform !== 'linux') return; // the pseudo-terminal comes from util-linux `script`
    // At a terminal jit's own colours stay (the state in green), the file's escapes do not.
    const tty = await runJitOnTty(['issue', 'show', id], { cwd: p.dir });
    expect(tty.stdout).toContain('\u001b[32mready');
    expect(tty.stdout).toContain('\\x1b]0;pwned\\x07');
    expect(tty.stdout).not.toContain('\u001b]0;pwned');
  });

  it.runIf(process.platform === 'linux')('--json: indented on a terminal, one line for a program; query ready passes its rows through as they are', async () => {
    const p = await project();
    const first = await p.json(['issue', 'create', '-t', 'quote " and é', '-p', 'high']);
    await p.json(['issue', 'create', '-t', 'second']);
    await p.json(['issue', 'create', '-t', 'waits', '--dep', first.id]);
    for (const args of [['status'], ['query', 'ready'], ['query', 'ready', '--limit', '1'], ['query', 'ready', '--label', 'none:here'], ['events', 'tail', '-n', '2']]) {
      const [tty, piped, stats] = await Promise.all([
        runJitOnTty(['--json', ...args], { cwd: p.dir }),
        p.run(['--json', ...args]),
        p.run(['--json', ...args], { JIT_LOCK_STATS: '1' }),
      ]);
      expect(piped.code, piped.stderr).toBe(0);
      const document = JSON.parse(piped.stdout);
      expect(piped.stdout, args.join(' ')).toBe(JSON.stringify(document) + '\n');
      // The terminal turns \n into \r\n.
      expect(tty.stdout.replace(/\r\n/g, '\n'), args.join(' ')).toBe(JSON.stringify(document, null, 2) + '\n');
      expect(stats.code, stats.stderr).toBe(0);
      // lock_wait_ms after the list (query ready's rows are put in as text, the rest of the object after them); events tail takes no lock.
      expect(JSON.parse(stats.stdout), args.join(' ')).toEqual(args[0] === 'events' ? document : { ...document, lock_wait_ms: expect.any(Number) });
    }
    const ready = JSON.parse((await p.run(['--json', 'query', 'ready'])).stdout);
    expect(ready.count).toBe(2);
    expect(ready.issues.map((issue: { title: string }) => issue.title)).toEqual(['quote " and é', 'second']);
    expect(ready.issues[0]).toEqual((await p.json(['issue', 'list'])).issues.find((issue: { id: string }) => issue.id === first.id));
  });
});
