// The file primitives against the real file system: what they refuse and what they keep.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JitError } from './errors.js';
import { appendText, checkSingleLink, createFileIfMissing, readTextIfExists } from './files.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'jit-files-unit-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

let dirs = 0;
function dir(): string {
  const made = path.join(scratch, `d${++dirs}`);
  fs.mkdirSync(made);
  return made;
}

function thrown(work: () => unknown): JitError {
  try {
    work();
  } catch (error) {
    if (error instanceof JitError) return error;
    throw error;
  }
  throw new Error('expected a JitError');
}

describe.skipIf(process.platform === 'win32')('hard links', () => {
  it('a file with another name is refused for reading and appending; the other name is untouched', () => {
    const d = dir();
    const file = path.join(d, 'events.jsonl');
    fs.writeFileSync(file, 'line\n');
    const other = path.join(scratch, `outside-${dirs}`);
    fs.linkSync(file, other);
    for (const work of [() => readTextIfExists(file), () => appendText(file, 'more\n')]) {
      const error = thrown(work);
      expect(error.code).toBe('UNSAFE_PATH');
      expect(error.message).toContain(file);
      expect(error.details).toMatchObject({ path: file, nlink: 2 });
    }
    expect(fs.readFileSync(other, 'utf8')).toBe('line\n');
  });

  it('the link createFileIfMissing makes from its own temp file is not mistaken for one', () => {
    const d = dir();
    const file = path.join(d, 'index.json');
    fs.writeFileSync(file, '{}\n');
    fs.linkSync(file, path.join(d, `.index.json.${process.pid}.999.tmp`)); // the moment between link() and the temp's removal
    expect(readTextIfExists(file)).toBe('{}\n');
    expect(createFileIfMissing(d, 'gates.json', '{}\n')).toBe(true);
    expect(fs.statSync(path.join(d, 'gates.json')).nlink).toBe(1);
  });

  it('nor is that link after the temp file went away between the stat a reader took and its look for the temp (racing inits)', () => {
    const d = dir();
    const file = path.join(d, 'index.json');
    fs.writeFileSync(file, '{}\n');
    const temp = path.join(d, `.index.json.${process.pid}.998.tmp`);
    fs.linkSync(file, temp);
    const seenWhileLinked = fs.lstatSync(file); // nlink 2, as a reader saw it
    fs.rmSync(temp); // createFileIfMissing's clean-up, before the reader looked for the temp
    expect(seenWhileLinked.nlink).toBe(2);
    expect(() => checkSingleLink(file, seenWhileLinked)).not.toThrow();
    // A real second name is still refused, with the stat taken before or after.
    const other = path.join(scratch, `outside-${dirs}-late`);
    fs.linkSync(file, other);
    expect(thrown(() => checkSingleLink(file, seenWhileLinked)).code).toBe('UNSAFE_PATH');
  });
});

describe('text that is not UTF-8', () => {
  it('is CORRUPT_FILE naming the file and the line, unless the caller asks for replacement (the event log)', () => {
    const d = dir();
    const file = path.join(d, 'issue.json');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('{\n  "title": "caf'), Buffer.from([0xe9]), Buffer.from('"\n}\n')]));
    const error = thrown(() => readTextIfExists(file));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain(file);
    expect(error.details).toMatchObject({ path: file, line: 2, written_by_jit: false });
    expect(readTextIfExists(file, { invalidUtf8: 'replace' })).toBe('{\n  "title": "caf\ufffd"\n}\n');
  });

  it('keeps a byte-order mark and valid multi-byte text exactly', () => {
    const d = dir();
    const file = path.join(d, 'ok.json');
    fs.writeFileSync(file, '\ufeff{"title": "café ✓ 🚀"}');
    expect(readTextIfExists(file)).toBe('\ufeff{"title": "café ✓ 🚀"}');
  });
});
