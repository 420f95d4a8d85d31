// `events query` without --limit streams from the log to the output: any
// number of matches, printed as they are read, in the same document
// JSON.stringify would make. (test/chaos/event-log.test.ts: a log past 512 MiB.)
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectsForThisFile } from './helpers.js';

const projects = projectsForThisFile();
const TYPES = ['issue_created', 'issue_claimed', 'issue_updated', 'issue_completed'];

describe('events query streams its output', () => {
  it('100,000 matches: one well-formed JSON document, one text line each', async () => {
    const p = await projects.initialized();
    const issue = randomUUID();
    const lines = Array.from({ length: 400_000 }, (_, i) =>
      JSON.stringify({ type: TYPES[i % 4], id: randomUUID(), issue_id: i % 8 === 0 ? null : issue, timestamp: new Date(1e12 + i).toISOString(), fields: ['title'] }),
    );
    writeFileSync(path.join(p.jitDir, 'events.jsonl'), lines.join('\n') + '\n');

    const json = await p.run(['--json', 'events', 'query', '--type', 'issue_claimed']);
    expect(json.code, json.stderr).toBe(0);
    const document = JSON.parse(json.stdout);
    // Streamed in pieces, as one line for a program (not a terminal): exactly what JSON.stringify gives (compared whole, not diffed: 17 MB).
    expect(json.stdout === JSON.stringify(document) + '\n', 'events query --json is not one line of JSON').toBe(true);
    expect(document.count).toBe(100_000);
    expect(document.events).toHaveLength(100_000);
    expect(document.events[99_999]).toEqual(JSON.parse(lines[399_997]!));

    const text = await p.run(['events', 'query', '--issue', issue.slice(0, 8), '--type', 'issue_created']);
    expect(text.code, text.stderr).toBe(0);
    const shown = text.stdout.trimEnd().split('\n');
    expect(shown).toHaveLength(50_000); // every other issue_created has no issue (i % 8 === 0)
    expect(shown[0]).toMatch(/^\S+ {2}\w{8} {2}issue_created {8}fields=\["title"\]$/);

    const none = await p.run(['--json', 'events', 'query', '--type', 'gate_failed']);
    expect(none.stdout).toBe(JSON.stringify({ events: [], count: 0 }) + '\n');
    expect((await p.run(['events', 'query', '--type', 'gate_failed'])).stdout).toBe('No events.\n');

    const limited = await p.run(['--json', 'events', 'query', '--type', 'issue_claimed', '--limit', '2']);
    expect(limited.stdout).toBe(JSON.stringify({ events: [JSON.parse(lines[399_993]!), JSON.parse(lines[399_997]!)], count: 2 }) + '\n');
  }, 120_000);
});
