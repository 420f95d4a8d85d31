/**
 * File primitives of the `.jit/` format: atomic replace, safe reads, the
 * mapping of OS errors to JitError. Writes never follow a symbolic link and
 * never leave a partial file where a reader could see it.
 */
import { command, hint } from './suggestions.js';
import { constants as bufferConstants, isUtf8 } from 'node:buffer';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JitError } from './errors.js';

/** The longest string V8 can make, in UTF-16 units: a bigger file cannot be decoded. */
const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;

// O_NOFOLLOW does not exist on Windows (0 there); symlinks are checked with lstat as well.
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
// Opening a FIFO waits for its other end, forever: O_NONBLOCK makes the open return at once, so
// the type check after it can refuse. Windows has no O_NONBLOCK (and no FIFOs in a folder): there
// the type is checked with lstat before the open.
const NONBLOCK = fs.constants.O_NONBLOCK ?? 0;
let tempCounter = 0;

/** Temp files are `.<name>.<pid>.<counter>.tmp` beside their target, so a crash leaves a recognisable stray. */
export const TEMP_FILE = /^\.(.+)\.(\d+)\.(\d+)\.tmp$/;

export function fsError(error: unknown, filePath: string, action: string): JitError {
  if (error instanceof JitError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? '';
  const reason = (error as Error | undefined)?.message ?? String(error);
  const details = { path: filePath, errno: code };
  if (code === 'EACCES' || code === 'EPERM') {
    return new JitError('PERMISSION_DENIED', `Permission denied: cannot ${action} ${filePath}.`, {
      suggestions: ['Check the owner and mode of the file and of .jit/.'],
      details,
      cause: error,
    });
  }
  // ENXIO/EOPNOTSUPP: what open() says for a socket (or a FIFO nobody reads); EFTYPE: the lock toolkit's word.
  if (code === 'ENXIO' || code === 'EOPNOTSUPP' || code === 'EFTYPE') return unsafePath(filePath, 'is not a regular file (a FIFO, socket or device)', error);
  if (code === 'ELOOP' || code === 'ENOTDIR' || code === 'EISDIR') {
    return unsafePath(filePath, code === 'ELOOP' ? 'is a symbolic link' : code === 'EISDIR' ? 'is a directory' : 'has a file where a directory belongs', error);
  }
  return new JitError('IO_ERROR', `Cannot ${action} ${filePath}: ${reason}`, {
    suggestions: code === 'ENOSPC' ? ['Free some disk space and retry.'] : code === 'EROFS' ? ['The file system is read-only.'] : [],
    details,
    cause: error,
  });
}

export function unsafePath(filePath: string, what: string, cause?: unknown): JitError {
  return new JitError('UNSAFE_PATH', `Refusing to use ${filePath}: it ${what}. jit only writes regular files inside .jit/.`, {
    suggestions: [hint`Replace it with what jit expects (see ${command('validate')}), or restore .jit/ from version control.`],
    details: { path: filePath },
    cause,
  });
}

/**
 * UNSAFE_PATH for a store file with other names (hard links): one may be
 * outside .jit/, so reading it reads someone else's file and writing it
 * writes there. The one exception is a file createFileIfMissing is creating
 * right now: linked from its temp sibling, which is removed a moment later.
 */
export function checkSingleLink(filePath: string, stat: fs.Stats): void {
  if (stat.nlink <= 1 || isBeingCreated(filePath, stat) || createdSince(filePath, stat)) return;
  throw new JitError(
    'UNSAFE_PATH',
    `Refusing to use ${filePath}: it has ${stat.nlink} hard links, so another name (perhaps outside .jit/) shares its content, and jit would read or change that file too.`,
    {
      suggestions: [`Give it a copy of its own (\`cp -p ${filePath} ${filePath}.copy && mv ${filePath}.copy ${filePath}\`), or remove the other link.`],
      details: { path: filePath, nlink: stat.nlink },
    },
  );
}

/**
 * The same file has one name now: its second one was createFileIfMissing's
 * temp file, removed between the caller's stat and isBeingCreated's look.
 */
function createdSince(filePath: string, stat: fs.Stats): boolean {
  const now = fs.lstatSync(filePath, { throwIfNoEntry: false });
  return now !== undefined && now.ino === stat.ino && now.dev === stat.dev && now.nlink <= 1;
}

function isBeingCreated(filePath: string, stat: fs.Stats): boolean {
  const dir = path.dirname(filePath);
  const name = path.basename(filePath);
  try {
    return fs.readdirSync(dir).some((entry) => {
      if (TEMP_FILE.exec(entry)?.[1] !== name) return false;
      const temp = fs.lstatSync(path.join(dir, entry), { throwIfNoEntry: false });
      return temp !== undefined && temp.ino === stat.ino && temp.dev === stat.dev;
    });
  } catch {
    return false;
  }
}

/** Throws UNSAFE_PATH unless `dir` is a real directory (not a symlink, not a file). */
export function checkDirectory(dir: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (error) {
    throw fsError(error, dir, 'open the directory');
  }
  if (stat.isSymbolicLink()) throw unsafePath(dir, 'is a symbolic link');
  if (!stat.isDirectory()) throw unsafePath(dir, 'is not a directory');
}

/**
 * Opens a file of the store that must be a regular file, without ever
 * waiting: a symlink, FIFO, socket, device or directory is UNSAFE_PATH. Null
 * when it does not exist (and `flags` does not create it). Every store file
 * is opened here, so each check is made once for all of them.
 */
export function openRegularFile(filePath: string, flags: number, action: string): { fd: number; stat: fs.Stats } | null {
  if (NONBLOCK === 0) {
    const stat = fs.lstatSync(filePath, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) throw unsafePath(filePath, 'is a symbolic link');
    if (stat && !stat.isFile()) throw unsafePath(filePath, 'is not a regular file');
  }
  let fd: number;
  try {
    fd = fs.openSync(filePath, flags | NOFOLLOW | NONBLOCK, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (flags & fs.constants.O_CREAT) === 0) return null;
    throw fsError(error, filePath, action);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw unsafePath(filePath, 'is not a regular file (a FIFO, socket or device)');
    checkSingleLink(filePath, stat);
    return { fd, stat };
  } catch (error) {
    fs.closeSync(fd);
    throw fsError(error, filePath, action);
  }
}

/**
 * The file's text, or null when it does not exist. A symlink or non-file is
 * UNSAFE_PATH. Bytes that are not UTF-8 are CORRUPT_FILE: decoded leniently
 * they would turn into U+FFFD, and the next write would store that instead
 * of what was there. Only `invalidUtf8: 'replace'` reads them anyway (the
 * event log, which is appended to, never rewritten).
 */
export function readTextIfExists(filePath: string, options: { invalidUtf8?: 'refuse' | 'replace' } = {}): string | null {
  const file = openRegularFile(filePath, fs.constants.O_RDONLY, 'read');
  if (file === null) return null;
  let bytes: Buffer;
  try {
    // Checked before reading: a file no string can hold is not jit's (nor worth the memory).
    if (file.stat.size > MAX_STRING_LENGTH) throw tooLarge(filePath, file.stat.size);
    bytes = fs.readFileSync(file.fd);
  } catch (error) {
    throw fsError(error, filePath, 'read');
  } finally {
    fs.closeSync(file.fd);
  }
  if (options.invalidUtf8 !== 'replace' && !isUtf8(bytes)) throw notUtf8(filePath, bytes);
  return bytes.toString('utf8');
}

function tooLarge(filePath: string, size: number): JitError {
  return new JitError('CORRUPT_FILE', `Corrupt file ${filePath}: it is ${size} bytes, larger than any file jit writes and more than it can read as text, so jit will neither read nor rewrite it.`, {
    suggestions: [hint`Restore the file from version control or a backup; ${command('validate')} lists every problem.`],
    // Not jit's writing: validate --fix must not replace it (see JsonFileStorage.checkIndex).
    details: { path: filePath, size, written_by_jit: false },
  });
}

function notUtf8(filePath: string, bytes: Buffer): JitError {
  let line = 1;
  for (let start = 0; ; line++) {
    const end = bytes.indexOf(0x0a, start);
    if (!isUtf8(bytes.subarray(start, end === -1 ? bytes.length : end)) || end === -1) break;
    start = end + 1;
  }
  return new JitError('CORRUPT_FILE', `Corrupt file ${filePath}: line ${line} is not valid UTF-8 text (jit writes only UTF-8), so jit will neither read nor rewrite it.`, {
    suggestions: [hint`Restore the file from version control or a backup, or re-save it as UTF-8; ${command('validate')} lists every problem.`],
    // Not jit's writing: validate --fix must not replace it (see JsonFileStorage.checkIndex).
    details: { path: filePath, line, written_by_jit: false },
  });
}

export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY);
  } catch (error) {
    // Windows cannot open a directory; NTFS journals the rename itself.
    if (process.platform === 'win32') return;
    throw fsError(error, dir, 'sync');
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (process.platform !== 'win32') throw fsError(error, dir, 'sync');
  } finally {
    fs.closeSync(fd);
  }
}

function writeTemp(dir: string, name: string, text: string): string {
  const temp = path.join(dir, `.${name}.${process.pid}.${++tempCounter}.tmp`);
  let fd: number;
  try {
    fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, 0o644);
  } catch (error) {
    throw fsError(error, temp, 'create');
  }
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw fsError(error, path.join(dir, name), 'write');
  }
  fs.closeSync(fd);
  return temp;
}

function checkReplaceable(target: string): void {
  try {
    const stat = fs.lstatSync(target);
    if (stat.isSymbolicLink()) throw unsafePath(target, 'is a symbolic link');
    if (!stat.isFile()) throw unsafePath(target, 'is not a regular file');
    checkSingleLink(target, stat);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, target, 'replace');
  }
}

/**
 * rename(2) over the target. Windows refuses (EPERM/EACCES) while another
 * process has the target open, e.g. a reader mid-read: retry briefly there.
 */
function renameOver(from: string, to: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(from, to);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (process.platform !== 'win32' || (code !== 'EPERM' && code !== 'EACCES') || attempt >= 50) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + attempt * 2);
    }
  }
}

/**
 * Replaces `dir/name` atomically: write a temp file in the same folder,
 * fsync it, rename it over the target, fsync the folder. A reader sees the
 * old or the new content, never a mix; a crash leaves at most a stray temp.
 */
export function writeFileAtomic(dir: string, name: string, text: string): void {
  checkDirectory(dir);
  const target = path.join(dir, name);
  checkReplaceable(target);
  const temp = writeTemp(dir, name, text);
  try {
    renameOver(temp, target);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw fsError(error, target, 'replace');
  }
  fsyncDirectory(dir);
}

/**
 * writeFileAtomic for many files of one directory: every temp file is
 * written first, then all are fsynced at once (the OS folds concurrent
 * fsyncs into few journal commits: 1,000 files cost about what 100 do one
 * after another), renamed, and the directory synced once. Each file is
 * replaced atomically; a failure part-way leaves some replaced, as
 * writeFileAtomic one by one would. At most `parallel` files are open at a time.
 */
export async function writeFilesAtomic(dir: string, files: ReadonlyArray<readonly [name: string, text: string]>, parallel = 64): Promise<void> {
  checkDirectory(dir);
  for (let start = 0; start < files.length; start += parallel) {
    const chunk = files.slice(start, start + parallel);
    const temps: string[] = [];
    try {
      const opened: number[] = [];
      try {
        for (const [name, text] of chunk) {
          checkReplaceable(path.join(dir, name));
          const temp = path.join(dir, `.${name}.${process.pid}.${++tempCounter}.tmp`);
          let fd: number;
          try {
            fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | NOFOLLOW, 0o644);
          } catch (error) {
            throw fsError(error, temp, 'create');
          }
          opened.push(fd);
          temps.push(temp);
          try {
            fs.writeFileSync(fd, text);
          } catch (error) {
            throw fsError(error, path.join(dir, name), 'write');
          }
        }
        await Promise.all(
          opened.map((fd, i) => new Promise<void>((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(fsError(error, path.join(dir, chunk[i]![0]), 'write')) : resolve())))),
        );
      } finally {
        for (const fd of opened) fs.closeSync(fd);
      }
      chunk.forEach(([name], i) => {
        try {
          renameOver(temps[i]!, path.join(dir, name));
        } catch (error) {
          throw fsError(error, path.join(dir, name), 'replace');
        }
        temps[i] = '';
      });
    } finally {
      for (const temp of temps) if (temp !== '') fs.rmSync(temp, { force: true });
    }
  }
  fsyncDirectory(dir);
}

/** Creates `dir/name` with `text` unless it exists (then returns false): safe when several processes init at once. */
export function createFileIfMissing(dir: string, name: string, text: string): boolean {
  checkDirectory(dir);
  const target = path.join(dir, name);
  checkReplaceable(target);
  const temp = writeTemp(dir, name, text);
  try {
    fs.linkSync(temp, target);
    fsyncDirectory(dir);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fsError(error, target, 'create');
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

export function removeFile(dir: string, name: string): void {
  try {
    fs.unlinkSync(path.join(dir, name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(error, path.join(dir, name), 'remove');
  }
}

export function makeDirectory(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(error, dir, 'create');
    checkDirectory(dir);
    return false;
  }
}

export function listDirectory(dir: string): string[] {
  checkDirectory(dir);
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    throw fsError(error, dir, 'list');
  }
}

/** True when the temp file's writer is gone (or it is older than an hour), so nobody will finish it. */
export function isStrayTemp(dir: string, name: string): boolean {
  const match = TEMP_FILE.exec(name);
  if (!match) return false;
  try {
    if (Date.now() - fs.lstatSync(path.join(dir, name)).mtimeMs > 3_600_000) return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
  return processIsGone(Number(match[2]));
}

/** Whether no process `pid` runs on this machine. Our own pid is alive by definition (a worker thread of ours may be at work). */
export function processIsGone(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Appends with one write() on an O_APPEND descriptor, so concurrent appenders never interleave inside a line. */
export function appendText(filePath: string, text: string): void {
  const { fd } = openRegularFile(filePath, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 'append to')!;
  try {
    const data = Buffer.from(text);
    const written = fs.writeSync(fd, data);
    if (written !== data.length) throw new Error(`short write (${written} of ${data.length} bytes)`);
  } catch (error) {
    throw fsError(error, filePath, 'append to');
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether the file ends with a newline (true for an empty or missing file). */
export function endsWithNewline(filePath: string): boolean {
  const file = openRegularFile(filePath, fs.constants.O_RDONLY, 'read');
  if (file === null) return true;
  const { fd, stat } = file;
  try {
    if (stat.size === 0) return true;
    const last = Buffer.alloc(1);
    fs.readSync(fd, last, 0, 1, stat.size - 1);
    return last[0] === 0x0a;
  } catch (error) {
    throw fsError(error, filePath, 'read');
  } finally {
    fs.closeSync(fd);
  }
}
