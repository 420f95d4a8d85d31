// Hostile files: symlinks planted in .jit/, a file where a folder belongs,
// unreadable files. jit must refuse clearly and never write through a
// symlink to a place outside .jit/.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasStackTrace, isLinux, isRoot, jit, makeProject, report, store, tempDir } from './support.js';

function victimFile(): { file: string; stat: () => string } {
  const dir = tempDir('victim');
  const file = path.join(dir, 'precious.txt');
  fs.writeFileSync(file, 'do not touch');
  const stat = (): string => {
    const st = fs.statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  };
  return { file, stat };
}

describe('hostile files', () => {
  it('a lock file replaced by a symlink to a file outside .jit/ is refused and the target untouched', async () => {
    const { project, jitDir } = makeProject('symlock');
    const victim = victimFile();
    const before = victim.stat();
    const lockFile = path.join(jitDir, '.index.lock');
    fs.rmSync(lockFile, { force: true });
    fs.symlinkSync(victim.file, lockFile);

    const create = jit(project, ['issue', 'create', '--title', 'through the link?']);
    expect(create.status).not.toBe(0);
    expect(['UNSAFE_PATH', 'IO_ERROR']).toContain(create.json.error.code);
    expect(create.json.error.message).toContain('.index.lock');
    expect(hasStackTrace(create.stdout + create.stderr)).toBe(false);
    expect(victim.stat()).toBe(before);
    expect(fs.readFileSync(victim.file, 'utf8')).toBe('do not touch');
    report('lock file symlinked outside .jit/', '.index.lock -> outside file', `refused (${create.json.error.code}, exit ${create.status}); target untouched`);
  });

  it('an issue file replaced by a symlink is never written through', async () => {
    const { project, jitDir } = makeProject('symissue');
    const tracker = store.openTracker(jitDir);
    const issue = await tracker.createIssue({ title: 'real' });
    const victim = victimFile();
    const file = path.join(jitDir, 'issues', `${issue.id}.json`);
    fs.copyFileSync(file, victim.file);
    const copy = fs.readFileSync(victim.file, 'utf8');
    fs.rmSync(file);
    fs.symlinkSync(victim.file, file);

    const update = jit(project, ['issue', 'update', issue.id, '--title', 'through the link?']);
    expect(update.status).not.toBe(0);
    expect(update.json.error.code).toBe('UNSAFE_PATH');
    expect(fs.readFileSync(victim.file, 'utf8')).toBe(copy);
    expect(fs.lstatSync(file).isSymbolicLink()).toBe(true);
    report('issue file symlinked outside .jit/', '1 issue file', 'refused (UNSAFE_PATH); target untouched');
  });

  it('.jit/issues that is a file gives a clear error', () => {
    const { project, jitDir } = makeProject('issuesfile');
    fs.rmSync(path.join(jitDir, 'issues'), { recursive: true });
    fs.writeFileSync(path.join(jitDir, 'issues'), 'not a folder');
    const create = jit(project, ['issue', 'create', '--title', 'x']);
    expect(create.status).not.toBe(0);
    expect(['UNSAFE_PATH', 'IO_ERROR']).toContain(create.json.error.code);
    expect(create.json.error.message).toContain('issues');
    expect(hasStackTrace(create.stdout + create.stderr)).toBe(false);
    expect(fs.readFileSync(path.join(jitDir, 'issues'), 'utf8')).toBe('not a folder');
    report('.jit/issues is a file', '1 store', `clear error (${create.json.error.code}); file kept`);
  });

  // root reads everything; drop to `nobody` to make chmod 000 mean something.
  it.skipIf(!(isLinux && isRoot))('unreadable files (chmod 000) give PERMISSION_DENIED, exit 5', async () => {
    const { project, jitDir } = makeProject('unreadable');
    const tracker = store.openTracker(jitDir);
    const issue = await tracker.createIssue({ title: 'secret' });
    spawnSync('chown', ['-R', 'nobody:nogroup', project]);
    fs.chmodSync(path.dirname(project), 0o755);
    const file = path.join(jitDir, 'issues', `${issue.id}.json`);
    fs.chmodSync(file, 0o000);
    const show = jit(project, ['issue', 'show', issue.id], {}, 65534);
    expect(show.status).toBe(5);
    expect(show.json.error.code).toBe('PERMISSION_DENIED');
    expect(show.json.error.message).toContain(file);
    fs.chmodSync(file, 0o644);
    fs.chmodSync(path.join(jitDir, 'index.json'), 0o000);
    const list = jit(project, ['issue', 'list'], {}, 65534);
    expect(list.status).toBe(5);
    expect(list.json.error.code).toBe('PERMISSION_DENIED');
    fs.chmodSync(path.join(jitDir, 'index.json'), 0o644);
    expect(jit(project, ['validate'], {}, 65534).status).toBe(0);
    report('unreadable files (chmod 000, as nobody)', 'issue file, index.json', 'PERMISSION_DENIED exit 5 naming the file');
  });
});
