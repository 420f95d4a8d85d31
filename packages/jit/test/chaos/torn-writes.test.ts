// Torn writes: what a crash or a careless editor leaves behind. Reads must
// name the broken file (or skip a torn event line), validate must report,
// validate --fix must repair what is safe and never delete what it cannot
// rebuild.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, jit, makeProject, report, store } from './support.js';

async function seeded(prefix: string) {
  const { project, jitDir } = makeProject(prefix);
  const tracker = store.openTracker(jitDir);
  const a = await tracker.createIssue({ title: 'alpha' });
  const b = await tracker.createIssue({ title: 'beta', dependencies: [a.id] });
  return { project, jitDir, tracker, a, b };
}

const problemKinds = (r: { json: any }) => (r.json?.problems ?? []).map((p: { kind: string }) => p.kind);

describe('torn writes', () => {
  it('a truncated issue file: clear error naming it, reported, never deleted by --fix', async () => {
    const { project, jitDir, a } = await seeded('torn-issue');
    const file = path.join(jitDir, 'issues', `${a.id}.json`);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.slice(0, Math.floor(text.length / 2)));

    const show = jit(project, ['issue', 'show', a.id]);
    expect(show.status).toBe(10);
    expect(show.json.error.code).toBe('CORRUPT_FILE');
    expect(show.json.error.message).toContain(file);
    expect(hasStackTrace(show.stderr + show.stdout)).toBe(false);

    const validate = jit(project, ['validate']);
    expect(validate.status).toBe(4);
    expect(problemKinds(validate)).toContain('corrupt_file');

    const fix = jit(project, ['validate', '--fix']);
    expect(fix.status).toBe(4); // a truncated issue cannot be rebuilt without guessing
    expect(fs.readFileSync(file, 'utf8')).toBe(text.slice(0, Math.floor(text.length / 2)));
    report('truncated issue file', '1 file cut in half', 'CORRUPT_FILE naming the file (exit 10); validate reports; --fix keeps the bytes');
  });

  it('a truncated index.json: clear error, --fix rebuilds it from the issue files', async () => {
    const { project, jitDir, a, b } = await seeded('torn-index');
    const index = path.join(jitDir, 'index.json');
    const text = fs.readFileSync(index, 'utf8');
    fs.writeFileSync(index, text.slice(0, text.length - 7));

    const list = jit(project, ['issue', 'list']);
    if (list.status === 0) {
      // Healing on read is allowed, but only if nothing was lost.
      expect(list.json.issues.map((i: { id: string }) => i.id).sort()).toEqual([a.id, b.id].sort());
    } else {
      expect(list.status).toBe(10);
      expect(list.json.error.code).toBe('CORRUPT_FILE');
      expect(list.json.error.message).toContain(index);
    }
    const fix = jit(project, ['validate', '--fix']);
    expect(fix.status, fix.stdout).toBe(0);
    const after = jit(project, ['issue', 'list']);
    expect(after.status).toBe(0);
    expect(after.json.issues.map((i: { id: string }) => i.id).sort()).toEqual([a.id, b.id].sort());
    expect(jit(project, ['validate']).status).toBe(0);
    report('truncated index.json', 'last 7 bytes cut', 'CORRUPT_FILE naming index.json; --fix rebuilds it, nothing lost');
  });

  it('a half-written last events line: skipped by readers, reported, --fix truncates only the torn tail', async () => {
    const { project, jitDir } = await seeded('torn-events');
    const events = path.join(jitDir, 'events.jsonl');
    const before = fs.readFileSync(events, 'utf8');
    const whole = before.split('\n').filter(Boolean).length;
    fs.appendFileSync(events, '{"type":"issue_updated","id":"9b1c');

    const tail = jit(project, ['events', 'tail', '-n', '100']);
    expect(tail.status).toBe(0);
    expect(tail.json.count ?? tail.json.events.length).toBe(whole);

    const validate = jit(project, ['validate']);
    expect(validate.status).toBe(4);
    expect(problemKinds(validate)).toContain('torn_event_line');

    expect(jit(project, ['validate', '--fix']).status).toBe(0);
    expect(fs.readFileSync(events, 'utf8')).toBe(before);
    expect(jit(project, ['validate']).status).toBe(0);
    report('torn events.jsonl line', 'half a JSON line appended', 'skipped by readers; validate reports; --fix restores the whole lines exactly');
  });

  it('stray temp files: ignored by reads; validate removes those of dead writers and reports it', async () => {
    const { project, jitDir, a } = await seeded('torn-temp');
    const strays = [
      path.join(jitDir, 'issues', `.${a.id}.json.99999.1.tmp`),
      path.join(jitDir, '.index.json.99999.2.tmp'),
    ];
    for (const s of strays) {
      fs.writeFileSync(s, '{"half": ');
      const old = new Date(Date.now() - 2 * 3600_000);
      fs.utimesSync(s, old, old); // left by a writer that died two hours ago
    }
    expect(jit(project, ['issue', 'list']).status).toBe(0);
    expect(jit(project, ['issue', 'show', a.id]).json.title).toBe('alpha');
    const validate = jit(project, ['validate']);
    expect(validate.status).toBe(0);
    expect(validate.json.recovered).toHaveLength(2);
    for (const s of strays) expect(validate.json.recovered.join('\n')).toContain(s);
    for (const s of strays) expect(fs.existsSync(s)).toBe(false);
    report('stray temp files', '2 temp files of a dead writer', 'ignored by reads; validate removes them (crash recovery) and lists them');
  });

  it('an issue file with valid JSON but the wrong shape or a future schema_version is refused, not guessed', async () => {
    const { project, jitDir, a } = await seeded('torn-schema');
    const file = path.join(jitDir, 'issues', `${a.id}.json`);
    fs.writeFileSync(file, JSON.stringify({ id: a.id, title: 42 }));
    const show = jit(project, ['issue', 'show', a.id]);
    expect(show.json.error.code).toBe('CORRUPT_FILE');
    const update = jit(project, ['issue', 'update', a.id, '--title', 'overwrite?']);
    expect(update.status).toBe(10);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ id: a.id, title: 42 });

    const index = path.join(jitDir, 'index.json');
    const parsed = JSON.parse(fs.readFileSync(index, 'utf8'));
    fs.writeFileSync(index, JSON.stringify({ ...parsed, schema_version: 999 }));
    const status = jit(project, ['status']);
    expect(status.status).toBe(10);
    expect(status.json.error.code).toBe('UNSUPPORTED_SCHEMA');
    report('wrong shape / future schema', '1 issue file, 1 index', 'CORRUPT_FILE / UNSUPPORTED_SCHEMA; file left as it was');
  });
});
