/**
 * Writes a `.jit/` as the original (Rust) jit lays it out (its later format:
 * index.json v2 with `all_ids`, gates with stage/mode/checker, gate-runs/,
 * config.toml, issue files with `documents`), for the migration tests. Our
 * own fixture, written from the format's description: every state (with the
 * original's spellings `open` and `inprogress`), every priority, assignees,
 * dependencies, gates required with every status, labels, context,
 * documents and lifecycle timestamps, events with and without `issue_id`,
 * deleted ids, lock files, and the files the original keeps beside its data.
 * Consistent on purpose (no issue in backlog whose dependencies are all
 * finished), so that `jit validate` after the migration has nothing to say.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export const IDS = {
  milestone: uuid(0x101),
  epic: uuid(0x102),
  testsDone: uuid(0x103),
  ready: uuid(0x104),
  gated: uuid(0x105),
  rejected: uuid(0x106),
  archivedDone: uuid(0x107),
  bug: uuid(0x108),
  backlog: uuid(0x109),
  archivedParked: uuid(0x10a),
  legacy: uuid(0x10b),
  deleted: uuid(0x1ff),
} as const;

const t = (minute: number): string => new Date(Date.UTC(2025, 10, 3, 9, minute, 0)).toISOString().replace('.000Z', 'Z');

type Json = Record<string, unknown>;

function issue(id: string, fields: Json): Json {
  return {
    id,
    title: `Issue ${id.slice(-3)}`,
    description: `What ${id.slice(-3)} is about.\n\n## Acceptance\n- it works`,
    state: 'backlog',
    priority: 'normal',
    assignee: null,
    dependencies: [],
    gates_required: [],
    gates_status: {},
    context: {},
    documents: [],
    labels: ['type:task'],
    created_at: t(0),
    updated_at: t(1),
    ...fields,
  };
}

const gateState = (status: string, by: string | null, minute: number): Json => ({ status, updated_by: by, updated_at: t(minute) });

/** The issues of the fixture, as the original writes them (before any conversion). */
export function originalIssues(extra = 0): Json[] {
  const issues = [
    issue(IDS.milestone, { title: 'Milestone v1', state: 'open', priority: 'high', labels: ['type:milestone', 'milestone:v1'], dependencies: [IDS.epic] }),
    issue(IDS.epic, {
      title: 'Epic: auth',
      state: 'inprogress',
      assignee: 'agent:lead',
      labels: ['type:epic', 'epic:auth', 'milestone:v1'],
      dependencies: [IDS.testsDone],
      claimed_at: t(5),
      first_ready_at: t(2),
      content_format: 'markdown',
    }),
    issue(IDS.testsDone, {
      title: 'Write the login tests',
      state: 'done',
      priority: 'critical',
      assignee: 'human:alice',
      gates_required: ['tests', 'review'],
      gates_status: { tests: gateState('passed', 'ci:github-actions', 7), review: gateState('passed', 'human:bob', 8) },
      context: { branch: 'feat/login-tests', notes: 'multi\nline, "quoted"' },
      documents: [
        { path: 'docs/design/auth.md', commit: null, label: 'Design', doc_type: 'design' },
        { path: 'docs/notes.md', commit: 'a1b2c3d', label: null, doc_type: 'notes' },
      ],
      labels: ['type:task', 'epic:auth', 'component:backend'],
      first_ready_at: t(1),
      claimed_at: t(2),
      done_at: t(9),
    }),
    issue(IDS.ready, { state: 'ready', priority: 'high', dependencies: [IDS.testsDone], gates_required: ['tests'], gates_status: { tests: gateState('pending', null, 3) }, labels: ['type:story', 'epic:auth'] }),
    issue(IDS.gated, {
      state: 'gated',
      assignee: 'agent:worker-1',
      gates_required: ['review', 'lint'],
      gates_status: { review: gateState('failed', 'human:bob', 11), lint: gateState('passed', 'ci:lint', 10) },
    }),
    issue(IDS.rejected, { state: 'rejected', priority: 'low', context: { reason: 'out of scope' } }),
    issue(IDS.archivedDone, { state: 'archived', archived_from: 'done', labels: ['type:bug'] }),
    issue(IDS.bug, { state: 'in_progress', priority: 'critical', assignee: 'agent:worker-2', dependencies: [IDS.archivedDone, IDS.rejected], labels: ['type:bug', 'severity:high'] }),
    issue(IDS.backlog, { state: 'backlog', dependencies: [IDS.gated] }),
    issue(IDS.archivedParked, { state: 'archived', archived_from: 'backlog' }),
  ];
  // An issue file of an older original: no context, documents or gates_status.
  const legacy = issue(IDS.legacy, { state: 'ready' });
  delete legacy['context'];
  delete legacy['documents'];
  delete legacy['gates_status'];
  issues.push(legacy);
  for (let i = 0; i < extra; i++) {
    issues.push(issue(uuid(0x1000 + i), { state: i % 2 === 0 ? 'done' : 'ready', labels: [`type:task`, `batch:${i % 7}`], context: { n: String(i) }, documents: [{ path: `docs/${i}.md`, commit: null, label: null, doc_type: null }] }));
  }
  return issues;
}

export const ORIGINAL_GATES = {
  gates: {
    tests: {
      version: 1,
      key: 'tests',
      title: 'Tests pass',
      description: 'cargo test',
      stage: 'postcheck',
      mode: 'auto',
      checker: { type: 'exec', command: 'cargo test --all', timeout_seconds: 600, working_dir: null, env: { RUST_LOG: 'info' }, pass_context: true },
      priority: 10,
      auto: true,
    },
    review: { version: 1, key: 'review', title: 'Code review', description: 'A person reviews it', stage: 'postcheck', mode: 'manual', checker: null, priority: 50, auto: false },
    // Written without `auto`: the migration derives it from `mode`.
    lint: {
      version: 1,
      key: 'lint',
      title: 'Lint',
      description: '',
      stage: 'precheck',
      mode: 'auto',
      checker: { type: 'exec', command: 'cargo clippy -- -D warnings', timeout_seconds: 120, working_dir: 'crates', env: {}, pass_context: false },
      priority: 20,
    },
  },
};

export const CONFIG_TOML = `# The original jit's configuration
[version]
schema = 2

[type_hierarchy]
types = { milestone = 1, epic = 2, story = 3, task = 4, bug = 4 }
strategic_types = ["milestone", "epic"]

[type_hierarchy.label_associations]
epic = "epic"
milestone = "milestone"

[validation]
strictness = "loose"
warn_orphaned_leaves = true

[documentation]
development_root = "dev"
managed_paths = ["dev/active", "dev/design"]

[custom_table]
kept = "verbatim"
`;

/** Extra files the original keeps beside its data, relative to `.jit`, with their text. */
export const KEPT_FILES: Record<string, string> = {
  'config.toml': CONFIG_TOML,
  'rules.toml': '[[rule]]\nname = "type-required"\nlevel = "error"\n',
  'templates.toml': '[templates.bug]\ndescription = "Steps to reproduce:\\n"\n',
  'invariants.toml': '# none yet\n',
  'schemas/issue.schema.json': JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'Issue' }, null, 2) + '\n',
  'gate-runs/0d5e8f1c-run/result.json':
    JSON.stringify(
      {
        schema_version: 1,
        run_id: '0d5e8f1c-run',
        gate_key: 'tests',
        stage: 'postcheck',
        issue_id: IDS.testsDone,
        commit: 'a1b2c3d4e5',
        branch: 'feat/login-tests',
        status: 'passed',
        started_at: t(6),
        completed_at: t(7),
        duration_ms: 61234,
        exit_code: 0,
        stdout: 'test result: ok.\n'.repeat(2000),
        stderr: '',
        command: 'cargo test --all',
        by: 'ci:github-actions',
        message: null,
      },
      null,
      2,
    ) + '\n',
};

function event(type: string, minute: number, n: number, fields: Json): Json {
  return { type, id: uuid(0x9000 + n), ...fields, timestamp: t(minute) };
}

export function originalEvents(issues: Json[]): Json[] {
  const events: Json[] = [];
  let n = 0;
  for (const i of issues) events.push(event('issue_created', 0, n++, { issue_id: i['id'], title: i['title'], priority: i['priority'] }));
  events.push(
    event('issue_claimed', 2, n++, { issue_id: IDS.testsDone, assignee: 'human:alice' }),
    event('issue_state_changed', 3, n++, { issue_id: IDS.testsDone, from: 'ready', to: 'in_progress' }),
    event('gate_passed', 7, n++, { issue_id: IDS.testsDone, gate_key: 'tests', updated_by: 'ci:github-actions' }),
    event('gate_failed', 11, n++, { issue_id: IDS.gated, gate_key: 'review', updated_by: 'human:bob' }),
    event('issue_completed', 9, n++, { issue_id: IDS.testsDone }),
    event('issue_updated', 9, n++, { issue_id: IDS.ready, updated_by: 'agent:lead', fields: ['priority'] }),
    event('issue_released', 9, n++, { issue_id: IDS.ready, assignee: 'agent:worker-9', reason: 'stale lease' }),
    event('dependency_reduced', 12, n++, { issue_id: IDS.milestone, old_count: 2, new_count: 1, removed_deps: [IDS.testsDone] }),
    event('issue_deleted', 13, n++, { issue_id: IDS.deleted }),
    // Registry and repository events: no issue_id at all.
    event('gate_definition_created', 0, n++, { gate_key: 'tests' }),
    event('document_archived', 14, n, { path: 'dev/active/old.md', archive_path: 'dev/archive/old.md' }),
  );
  return events;
}

export interface OriginalStore {
  jitDir: string;
  issues: Json[];
  events: Json[];
}

/** Writes the original's `.jit/` into `projectDir`; `extra` more issues make it bigger (for kill tests). */
export function writeOriginalStore(projectDir: string, extra = 0): OriginalStore {
  const jitDir = path.join(projectDir, '.jit');
  mkdirSync(path.join(jitDir, 'issues'), { recursive: true });
  const issues = originalIssues(extra);
  for (const i of issues) {
    writeFileSync(path.join(jitDir, 'issues', `${String(i['id'])}.json`), JSON.stringify(i, null, 2));
    writeFileSync(path.join(jitDir, 'issues', `${String(i['id'])}.lock`), '');
  }
  const index = { schema_version: 2, all_ids: issues.map((i) => i['id']), deleted_ids: [IDS.deleted] };
  writeFileSync(path.join(jitDir, 'index.json'), JSON.stringify(index, null, 2));
  writeFileSync(path.join(jitDir, 'gates.json'), JSON.stringify(ORIGINAL_GATES, null, 2));
  const events = originalEvents(issues);
  writeFileSync(path.join(jitDir, 'events.jsonl'), events.map((e) => JSON.stringify(e) + '\n').join(''));
  for (const [name, text] of Object.entries(KEPT_FILES)) {
    mkdirSync(path.dirname(path.join(jitDir, name)), { recursive: true });
    writeFileSync(path.join(jitDir, name), text);
  }
  for (const lock of ['.index.lock', '.gates.lock', '.events.lock']) writeFileSync(path.join(jitDir, lock), '');
  writeFileSync(path.join(jitDir, '.gitignore'), '*.lock\n');
  return { jitDir, issues, events };
}
