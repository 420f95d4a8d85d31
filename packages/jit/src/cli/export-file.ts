/**
 * Writing a file the caller named (`graph export -o FILE`), the one place the
 * CLI writes outside `.jit/`. It must never damage the store or follow a link
 * somewhere else, and a reader never sees half a file:
 * - a target that resolves (through symlinked folders too) inside `.jit/` is refused;
 * - a symbolic link or anything but a regular file at the target is refused;
 * - the content goes to a new temp file in the target's folder (O_EXCL, so no
 *   link is followed), is flushed, then renamed over the target. A hard link
 *   to a store file is therefore replaced, never written through.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, openSync, realpathSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { JitError } from '../store/core.js';

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

function writeFailure(target: string, error: unknown): JitError {
  const errno = (error as NodeJS.ErrnoException).code ?? '';
  const reason = (error as Error).message ?? String(error);
  const denied = errno === 'EACCES' || errno === 'EPERM';
  return new JitError(denied ? 'PERMISSION_DENIED' : 'IO_ERROR', `Cannot write ${target}: ${reason}`, {
    suggestions: [denied ? 'Choose a folder you can write to.' : 'Check that the folder exists and the disk is writable, or leave out -o to print to stdout.'],
    details: { path: target, errno },
    cause: error,
  });
}

function existing(file: string, target: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw writeFailure(target, error);
  }
}

/** Writes `content` to `target` atomically; refuses targets inside `jitDir` and non-regular files. */
export function writeExportFile(target: string, content: string, jitDir: string): void {
  const resolved = path.resolve(target);
  let folder: string;
  try {
    folder = realpathSync.native(path.dirname(resolved));
  } catch (error) {
    throw writeFailure(target, error);
  }
  const file = path.join(folder, path.basename(resolved));
  if (isInside(file, realpathSync.native(jitDir))) {
    throw new JitError('INVALID_ARGUMENT', `Refusing to write ${target}: it is inside the tracker's own directory ${jitDir}, which only jit writes.`, {
      suggestions: ['Write the export outside .jit/, e.g. -o graph.dot, or leave out -o to print it.'],
      details: { field: 'output', path: target },
    });
  }
  const stats = existing(file, target);
  if (stats && !stats.isFile()) {
    const what = stats.isSymbolicLink() ? 'a symbolic link' : stats.isDirectory() ? 'a directory' : 'not a regular file';
    throw new JitError('UNSAFE_PATH', `Refusing to write ${target}: it is ${what}, and jit does not write through links or over special files.`, {
      suggestions: ['Choose another file name, or remove what is there first.'],
      details: { path: target },
    });
  }

  const temp = path.join(folder, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', stats ? stats.mode & 0o777 : 0o666);
    const bytes = Buffer.from(content, 'utf8');
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, file);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temp);
    } catch {
      // Not created, or already renamed.
    }
    throw writeFailure(target, error);
  }
}
