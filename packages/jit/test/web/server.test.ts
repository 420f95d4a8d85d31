// `jit serve` as a process, over HTTP (no browser): the API answers with the
// CLI's --json shapes for the same store, actions need the CSRF token and a
// same-origin request, bodies are bounded, a bind beyond loopback needs an
// access token, and a loopback server answers only to loopback names.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJit } from '../cli/helpers.js';
import { writeFixture, type Fixture } from './fixture.js';
import { startServe, webProject, type Serve, type WebProject } from './helpers.js';

let project: WebProject;
let fixture: Fixture;
let serve: Serve;
let csrf: string;

beforeAll(async () => {
  project = webProject();
  fixture = await writeFixture(project.dir);
  serve = await startServe(project.dir, ['--as', 'human:tester']);
  csrf = ((await (await fetch(`${serve.url}api/session`)).json()) as { csrf_token: string }).csrf_token;
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  project?.remove();
});

async function cli(args: string[]): Promise<unknown> {
  const run = await runJit(['--json', ...args], { cwd: project.dir });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

async function api(path: string): Promise<unknown> {
  const response = await fetch(`${serve.url}${path.replace(/^\//, '')}`);
  expect(response.status, path).toBe(200);
  return response.json();
}

function post(path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(`${serve.url}${path.replace(/^\//, '')}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** A raw request, to send a Host header fetch would not let through. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the API answers with the CLI --json shapes', () => {
  it('issues, issue, status, ready, blocked, graph, gates, events, downstream', async () => {
    const { ids } = fixture;
    expect(await api('/api/issues')).toEqual(await cli(['query', 'all']));
    expect(await api('/api/issues?label=epic:*')).toEqual(await cli(['issue', 'list', '--label', 'epic:*']));
    expect(await api(`/api/issues/${ids.test}`)).toEqual(await cli(['issue', 'show', ids.test]));
    expect(await api(`/api/issues/${ids.test.slice(0, 8)}`)).toEqual(await cli(['issue', 'show', ids.test.slice(0, 8)]));
    expect(await api('/api/status')).toEqual(await cli(['status']));
    expect(await api('/api/ready')).toEqual(await cli(['query', 'ready']));
    expect(await api('/api/blocked')).toEqual(await cli(['query', 'blocked']));
    const { nodes, edges } = (await cli(['graph', 'show', '--depth', '1000'])) as { nodes: unknown[]; edges: unknown[] };
    const graph = (await api('/api/graph')) as { nodes: unknown[]; edges: unknown[] };
    expect(graph.nodes).toEqual(expect.arrayContaining(nodes));
    expect(graph.nodes).toHaveLength(nodes.length);
    expect(graph.edges).toEqual(expect.arrayContaining(edges));
    expect(graph.edges).toHaveLength(fixture.edges);
    expect(await api('/api/gates')).toEqual(await cli(['registry', 'list']));
    expect(await api('/api/events?limit=5')).toEqual(await cli(['events', 'query', '--limit', '5']));
    expect(await api(`/api/events?issue=${ids.build}&limit=50`)).toEqual(await cli(['events', 'query', '--issue', ids.build, '--limit', '50']));
    expect(await api(`/api/issues/${ids.design}/downstream`)).toEqual(await cli(['graph', 'downstream', ids.design]));
    // ?gates=1 adds each issue's gates to the list shape; nothing is renamed.
    const board = (await api('/api/issues?gates=1')) as { issues: Record<string, unknown>[]; count: number };
    const plain = (await cli(['query', 'all'])) as { issues: Record<string, unknown>[] };
    expect(board.issues.map(({ gates_required: _r, gates_status: _s, ...summary }) => summary)).toEqual(plain.issues);
    expect(board.issues.find((issue) => issue['id'] === ids.test)?.['gates_required']).toEqual(['review']);
  });

  it('an action answers like the CLI action; a store error has the CLI error document and an HTTP status', async () => {
    const { ids } = fixture;
    const changed = (await (await post(`/api/issues/${ids.docs}/priority`, { priority: 'critical' }, { 'x-jit-csrf': csrf })).json()) as Record<string, unknown>;
    const again = await cli(['issue', 'update', ids.docs, '--priority', 'critical']);
    expect(Object.keys(changed).sort()).toEqual(Object.keys(again as object).sort());
    expect(changed).toMatchObject({ id: ids.docs, priority: 'critical', changed: true });
    expect(again).toMatchObject({ changed: false });

    const missing = await post('/api/issues/ffffffff/gates/review/pass', {}, { 'x-jit-csrf': csrf });
    expect(missing.status).toBe(404);
    const run = await runJit(['--json', 'gate', 'pass', 'ffffffff', 'review'], { cwd: project.dir });
    expect(await missing.json()).toEqual(JSON.parse(run.stdout));

    const released = await post(`/api/issues/${ids.build}/release`, { reason: 'stuck for a day' }, { 'x-jit-csrf': csrf });
    expect(released.status).toBe(200);
    expect(await released.json()).toMatchObject({ id: ids.build, assignee: null, state: 'ready' });
    const rejected = await post(`/api/issues/${ids.build}/reject`, {}, { 'x-jit-csrf': csrf });
    expect(await rejected.json()).toMatchObject({ id: ids.build, state: 'rejected' });
    expect(await cli(['issue', 'show', ids.build])).toMatchObject({ state: 'rejected' });
  });
});

describe('security', () => {
  it('CSRF: an action without the token, with a wrong one, from another origin or not as JSON is refused and changes nothing', async () => {
    const path = `/api/issues/${fixture.ids.docs}/priority`;
    const before = await cli(['issue', 'show', fixture.ids.docs]);
    for (const [headers, why] of [
      [{}, 'no token'],
      [{ 'x-jit-csrf': 'not-the-token' }, 'wrong token'],
      [{ 'x-jit-csrf': csrf, origin: 'http://evil.example' }, 'another origin'],
      [{ 'x-jit-csrf': csrf, 'sec-fetch-site': 'cross-site' }, 'cross-site'],
    ] as const) {
      const response = await post(path, { priority: 'low' }, headers);
      expect(response.status, why).toBe(403);
      expect(((await response.json()) as { error: { code: string } }).error.code, why).toBe('FORBIDDEN');
    }
    const form = await fetch(`${serve.url}${path.slice(1)}`, { method: 'POST', headers: { 'x-jit-csrf': csrf, 'content-type': 'text/plain' }, body: '{"priority":"low"}' });
    expect(form.status).toBe(403);
    expect(await cli(['issue', 'show', fixture.ids.docs])).toEqual(before);
  });

  it('bodies are bounded, GETs do not act, unknown paths are 404', async () => {
    const big = await post(`/api/issues/${fixture.ids.docs}/release`, { reason: 'x'.repeat(20_000) }, { 'x-jit-csrf': csrf });
    expect(big.status).toBe(413);
    expect((await fetch(`${serve.url}api/issues/${fixture.ids.docs}/reject`)).status).toBe(405);
    expect((await fetch(`${serve.url}api/nothing`)).status).toBe(404);
    expect((await fetch(`${serve.url}../../etc/passwd`)).status).toBe(404);
    expect((await fetch(`${serve.url}api/issues/%E0%A4%A`)).status).toBe(400);
  });

  it('the page comes with a strict CSP and no inline script', async () => {
    const response = await fetch(serve.url);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son\w+=/);
  });

  it('a loopback server turns away a request for another host name (DNS rebinding)', async () => {
    const refused = await rawGet(`${serve.url}api/status`, { host: `evil.example:${new URL(serve.url).port}` });
    expect(refused.status).toBe(403);
    expect((await rawGet(`${serve.url}api/status`, { host: `localhost:${new URL(serve.url).port}` })).status).toBe(200);
  });

  it('a bind beyond loopback without --token is refused; with one, every request needs it', async () => {
    const refused = await runJit(['--json', 'serve', '--host', '0.0.0.0', '--port', '0'], { cwd: project.dir });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'host' } });
    expect(JSON.parse(refused.stdout).error.suggestions.join(' ')).toContain('--token');

    const badPort = await runJit(['--json', 'serve', '--port', '70000'], { cwd: project.dir });
    expect(badPort.code).toBe(2);
    expect(JSON.parse(badPort.stdout).error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'port' } });
    const taken = await runJit(['--json', 'serve', '--port', new URL(serve.url).port], { cwd: project.dir });
    expect(taken.code).toBe(2);
    expect(JSON.parse(taken.stdout).error.message).toContain('the port is in use');

    const shared = await startServe(project.dir, ['--host', '0.0.0.0', '--token']);
    try {
      expect(shared.token).toMatch(/^[\w-]{20,}$/);
      const local = `http://127.0.0.1:${new URL(shared.url).port}/`;
      expect((await fetch(`${local}api/status`)).status).toBe(401);
      expect((await fetch(`${local}api/status`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${local}api/status`, { headers: { authorization: `Bearer ${shared.token}` } })).status).toBe(200);
      expect((await fetch(local)).status).toBe(401);
      // The printed address sets an HttpOnly cookie and drops the token from the address bar.
      const opened = await fetch(`${local}?token=${shared.token}`, { redirect: 'manual' });
      expect(opened.status).toBe(303);
      const cookie = opened.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/HttpOnly/);
      expect((await fetch(`${local}api/status`, { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
      // A cookie that is not valid percent-encoding is a wrong token (401), not a crash of the server (500).
      const mangled = await fetch(`${local}api/status`, { headers: { cookie: `jit_token=%E0%A4%A` } });
      expect(mangled.status).toBe(401);
      expect(((await mangled.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    } finally {
      await shared.stop();
    }
  });
});
