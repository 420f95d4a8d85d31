import { command, hint, run } from './suggestions.js';
import fs from 'node:fs';
import type * as Crypto from 'node:crypto';
import { JitError } from './errors.js';
import { preview } from './rules.js';

/** A full id or a prefix of one: hex digits and dashes only, so it can never name a path. */
const ID_OR_PREFIX = /^[0-9a-f-]{4,36}$/;
const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Random bytes for ids, taken 16 at a time from a pool read from the OS's
 * random source. node:crypto would do the same but costs ~4-6 ms to load,
 * a tenth of a CLI write; reading /dev/urandom costs tens of microseconds.
 * Where there is none (Windows), it is no device, it cannot be read or
 * what it gives is plainly not random, node:crypto fills the pool instead. Node never forks, so no two processes share a pool.
 */
const POOL_IDS = 64;
const pool = Buffer.alloc(16 * POOL_IDS);
let poolOffset = pool.length;

/**
 * Fewer distinct byte values than this in the 1,024 bytes read, and the
 * device is no random source (/dev/zero bound over /dev/urandom gives one).
 * Random bytes show ~251 of the 256 values; 127 or fewer means all 1,024
 * bytes fell within some 128 values, which has a chance below
 * C(256,128) * (1/2)^1024 < 2^256 * 2^-1024 = 2^-768: it never happens.
 */
const MIN_DISTINCT_BYTES = 128;

function distinctBytes(bytes: Uint8Array): number {
  const seen = new Uint8Array(256);
  let distinct = 0;
  for (const byte of bytes) {
    if (seen[byte] === 0) distinct++;
    seen[byte] = 1;
  }
  return distinct;
}

function fillPool(): void {
  try {
    // Non-blocking: a FIFO put there does not hang this open (the check below refuses it; OpenSSL's own seeding,
    // behind node:crypto, still opens the path as it always did).
    const fd = fs.openSync('/dev/urandom', fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    try {
      // A plain file there (a container's /dev copied, not made) would hand every process the same bytes.
      if (!fs.fstatSync(fd).isCharacterDevice()) throw new Error('/dev/urandom is not a device');
      let filled = 0;
      while (filled < pool.length) {
        const read = fs.readSync(fd, pool, filled, pool.length - filled, null);
        if (read === 0) throw new Error('short read from /dev/urandom');
        filled += read;
      }
      // A device that is not random (event ids, unlike issue ids, are never checked for repeats).
      if (distinctBytes(pool) < MIN_DISTINCT_BYTES) throw new Error('/dev/urandom gives no random bytes');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    (require('node:crypto') as typeof Crypto).randomFillSync(pool);
  }
  poolOffset = 0;
}

/** The UUID v4 made of the 16 bytes at `offset` of `bytes` (RFC 9562: version 4, variant 10). */
export function uuidFromBytes(bytes: Uint8Array, offset = 0): string {
  const hex = Buffer.from(bytes.subarray(offset, offset + 16));
  hex[6] = (hex[6]! & 0x0f) | 0x40;
  hex[8] = (hex[8]! & 0x3f) | 0x80;
  const text = hex.toString('hex');
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${text.slice(20)}`;
}

/** A random UUID v4 (issue and event ids). */
export function newUuid(): string {
  if (poolOffset >= pool.length) fillPool();
  const id = uuidFromBytes(pool, poolOffset);
  pool.fill(0, poolOffset, poolOffset + 16); // used bytes are never handed out twice, even by a bug
  poolOffset += 16;
  return id;
}

export const newIssueId = newUuid;

export function isFullId(id: string): boolean {
  return FULL_ID.test(id);
}

/**
 * Lower-cases and checks an id or prefix before anything touches the file
 * system: `../x`, absolute paths and NUL bytes all fail here.
 */
export function normalizeIdInput(input: unknown): string {
  const text = typeof input === 'string' ? input.trim().toLowerCase() : '';
  if (!ID_OR_PREFIX.test(text) || (text.length === 36 && !isFullId(text))) {
    throw new JitError('INVALID_ID', `Invalid issue id ${preview(input)}: expected a UUID or a prefix of 4+ hex characters.`, {
      suggestions: [hint`${run(command('issue.list'))} to see the ids.`],
    });
  }
  return text;
}

/**
 * Resolves a full id or unique prefix against the known ids. `cut`: the
 * known ids are only the first few that match (Storage.summariesByPrefix),
 * so an ambiguous prefix may match more than are listed.
 */
export function resolveId(input: unknown, knownIds: Iterable<string>, cut = false): string {
  const wanted = normalizeIdInput(input);
  const matches: string[] = [];
  for (const id of knownIds) {
    if (id.startsWith(wanted)) {
      matches.push(id);
      if (id === wanted) return id;
    }
  }
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) {
    throw new JitError('ISSUE_NOT_FOUND', `No issue with id ${wanted}.`, {
      suggestions: [hint`${run(command('issue.list'))} to see the ids.`],
      details: { id: wanted },
    });
  }
  throw new JitError('AMBIGUOUS_ID', `Id prefix ${wanted} matches ${cut ? 'at least ' : ''}${matches.length} issues: ${matches.slice(0, 5).map((m) => m.slice(0, 12)).join(', ')}${matches.length > 5 ? ', ...' : ''}.`, {
    suggestions: ['Give more characters of the id.'],
    details: { prefix: wanted, matches },
  });
}
