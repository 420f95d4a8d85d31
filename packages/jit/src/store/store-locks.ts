/**
 * The locks of one `.jit/` store: which file stands for what (the index,
 * each issue, the gate registry, the event log), in the global order
 * index(10) -> issues(20) -> gates(30) -> events(40) (the why: the header of
 * json-file-storage.ts). No lock file is ever made in a folder that is not
 * a store.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LockMode, LockRequest } from 'jit-lock';
import { JitError } from './errors.js';
import { checkDirectory } from './files.js';
import { JIT_DIR_NAME } from './layout.js';
import { RANK, type HeldLocks, type Locker } from './locker.js';
import { command, hint, run } from './suggestions.js';

export class StoreLocks {
  constructor(
    private readonly jitDir: string,
    private readonly issuesDir: string,
    private readonly locker: Locker,
  ) {}

  async lock(requests: LockRequest[]): Promise<HeldLocks> {
    this.checkInitialized();
    return this.locker.lockAll(requests);
  }

  /** All of `requests` right now, or none (null). */
  tryLockAll(requests: LockRequest[]): HeldLocks | null {
    const held: HeldLocks[] = [];
    const releaseAll = (): void => held.splice(0).reverse().forEach((h) => h.release());
    try {
      for (const request of requests) {
        const one = this.locker.tryLock(request.path, request.mode ?? 'exclusive', request.rank ?? RANK.issue);
        if (!one) {
          releaseAll();
          return null;
        }
        held.push(one);
      }
    } catch (error) {
      releaseAll();
      throw error;
    }
    return { release: releaseAll };
  }

  /** True while some process holds the issue's lock exclusively (its write may be under way). */
  isBeingWritten(id: string): boolean {
    // No issues/ (a cloned store, or removed by hand): nobody can hold a lock in it.
    if (!fs.existsSync(this.issuesDir)) return false;
    const probe = this.locker.tryLock(path.join(this.issuesDir, `${id}.lock`), 'shared', RANK.issue);
    probe?.release();
    return probe === null;
  }

  lockPath(name: 'index' | 'gates' | 'events'): string {
    return path.join(this.jitDir, `.${name}.lock`);
  }

  index(mode: LockMode): LockRequest {
    return { path: this.lockPath('index'), mode, rank: RANK.index };
  }

  issue(id: string, mode: LockMode): LockRequest {
    return { path: path.join(this.issuesDir, `${id}.lock`), mode, rank: RANK.issue };
  }

  gates(mode: LockMode): LockRequest {
    return { path: this.lockPath('gates'), mode, rank: RANK.gates };
  }

  events(mode: LockMode): LockRequest {
    return { path: this.lockPath('events'), mode, rank: RANK.events };
  }

  checkInitialized(): void {
    if (path.basename(this.jitDir) !== JIT_DIR_NAME) {
      // Not a store (whatever it holds): never write a single file into someone else's folder.
      throw new JitError('NOT_INITIALIZED', `No jit store at ${this.jitDir}: a store is a folder named ${JIT_DIR_NAME}, as \`jit init\` makes it.`, {
        suggestions: [hint`${run(command('init'))} in your project folder and open its ${JIT_DIR_NAME} folder.`],
        details: { path: this.jitDir },
      });
    }
    try {
      checkDirectory(this.jitDir);
    } catch (error) {
      if ((error as JitError).details?.['errno'] === 'ENOENT') {
        throw new JitError('NOT_INITIALIZED', `No jit store at ${this.jitDir}.`, { suggestions: [hint`${run(command('init'))} in your project folder.`], details: { path: this.jitDir } });
      }
      throw error;
    }
  }
}
