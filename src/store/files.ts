/**
 * File primitives of the `.jit/` format: atomic replace, safe reads, the
 * mapping of OS errors to JitError. Writes never follow a symbolic link and
 * never leave a partial file where a reader could see it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JitError } from './errors.js';

// O_NOFOLLOW does not exist on Windows (0 there); symlinks are checked with lstat as well.
const NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
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
    suggestions: ['Replace it with what jit expects (see `jit validate`), or restore .jit/ from version control.'],
    details: { path: filePath },
    cause,
  });
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

/** The file's text, or null when it does not exist. A symlink or non-file is UNSAFE_PATH. */
export function readTextIfExists(filePath: string): string | null {
  let fd: number;
  try {
    fd = fs.openSync(filePath, fs.constants.O_RDONLY | NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(error, filePath, 'read');
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw unsafePath(filePath, 'is not a regular file');
    return fs.readFileSync(fd, 'utf8');
  } catch (error) {
    throw fsError(error, filePath, 'read');
  } finally {
    fs.closeSync(fd);
  }
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
  const pid = Number(match[2]);
  try {
    if (Date.now() - fs.lstatSync(path.join(dir, name)).mtimeMs > 3_600_000) return true;
    // Our own pid is alive by definition, and a worker thread of ours may be writing it right now.
    if (pid === process.pid) return false;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' || (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Appends with one write() on an O_APPEND descriptor, so concurrent appenders never interleave inside a line. */
export function appendText(filePath: string, text: string): void {
  let fd: number;
  try {
    fd = fs.openSync(filePath, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | NOFOLLOW, 0o644);
  } catch (error) {
    throw fsError(error, filePath, 'append to');
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw unsafePath(filePath, 'is not a regular file');
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
  let fd: number;
  try {
    fd = fs.openSync(filePath, fs.constants.O_RDONLY | NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw fsError(error, filePath, 'read');
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw unsafePath(filePath, 'is not a regular file');
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

/**
 * An existing regular file opened for reading (with `write`, also for
 * writing), never through a symlink; null when it does not exist.
 * O_NONBLOCK: opening a FIFO planted there must not hang before the type
 * check refuses it (the flag means nothing for a regular file).
 */
export function openRegularFile(filePath: string, write = false): number | null {
  let fd: number;
  try {
    fd = fs.openSync(filePath, (write ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | NOFOLLOW | (fs.constants.O_NONBLOCK ?? 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fsError(error, filePath, 'open');
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw unsafePath(filePath, 'is not a regular file');
  } catch (error) {
    fs.closeSync(fd);
    throw fsError(error, filePath, 'open');
  }
  return fd;
}
