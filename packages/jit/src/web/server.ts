/**
 * `jit serve`: one page (the bundled assets in dist/webapp/) over the JSON
 * API (api.ts) and a server-sent event stream fed by the store's change
 * signal (store/change-feed.ts): a change by any process reaches every open
 * page as the events it appended, and nothing polls the store.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { JitError, toJitError, withHints, type TrackerApi } from '../store/core.js';
import type { ChangeBatch, ChangeSource } from '../store/index.js';
import { findRoute, GateCache, HTTP_STATUS_BY_ERROR, type ApiContext, type Body } from './api.js';
import { checkBind, csrfProblem, hostAllowed, isLoopbackHost, MAX_BODY_BYTES, newSecret, requestToken, sameSecret, SECURITY_HEADERS, TOKEN_COOKIE } from './security.js';

export const DEFAULT_PORT = 7737;
export const DEFAULT_HOST = '127.0.0.1';
/** An SSE comment this often keeps proxies and idle timers from closing a quiet stream. */
const HEARTBEAT_MS = 25_000;
/** Each open page holds one stream (a socket and a file descriptor): far more than a few people's tabs is a runaway script, and must not starve the store of descriptors. */
export const MAX_STREAMS = 64;
/** What a stream may hold unsent: a page that stopped reading (a frozen tab, a stuck proxy) is cut off rather than buffered without end; its EventSource reconnects and reloads. */
const MAX_STREAM_BACKLOG_BYTES = 1024 * 1024;

export interface WebServerOptions {
  tracker: TrackerApi;
  /** The store's change signal; without one (a store with no event log) the server announces only its own changes. */
  changes?: ChangeSource;
  host?: string;
  port?: number;
  /** Required beyond loopback; when set, every request must carry it. */
  token?: string;
  /** Who the supervisor's actions are recorded as (kind:name). */
  actor: string;
  /** Where index.html, app.js and app.css are (default: dist/webapp beside this module). */
  assetsDir?: string;
  version?: string;
}

export interface WebServer {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const ASSET_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The bundle is small and fixed for a server's life: read and compressed once. */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (error) {
    throw new JitError('INTERNAL', `This build of jit has no web page (${dir} is missing).`, { suggestions: ['Rebuild with `npm run build`.'], cause: error });
  }
  for (const name of names) {
    const type = ASSET_TYPES[path.extname(name)];
    if (!type) continue;
    const body = fs.readFileSync(path.join(dir, name));
    assets.set(`/${name}`, { type, body, gzip: gzipSync(body), etag: `"${body.length.toString(16)}-${fs.statSync(path.join(dir, name)).mtimeMs.toString(16)}"` });
  }
  if (!assets.has('/index.html')) throw new JitError('INTERNAL', `This build of jit has no web page (${dir}/index.html is missing).`, { suggestions: ['Rebuild with `npm run build`.'] });
  return assets;
}

function send(res: http.ServerResponse, status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, data: unknown): void {
  send(res, status, JSON.stringify(data, null, 2) + '\n', { 'content-type': 'application/json; charset=utf-8' });
}

function sendError(res: http.ServerResponse, thrown: unknown): void {
  const error = withHints(toJitError(thrown));
  sendJson(res, HTTP_STATUS_BY_ERROR[error.code] ?? 500, { error: error.toJSON() });
}

function refuse(res: http.ServerResponse, status: number, message: string, suggestion?: string): void {
  const code = { 401: 'UNAUTHORIZED', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED', 413: 'TOO_LARGE', 503: 'TOO_MANY_STREAMS' }[status] ?? 'FORBIDDEN';
  sendJson(res, status, { error: { code, message, suggestions: suggestion ? [suggestion] : [] } });
}

function readBody(req: http.IncomingMessage): Promise<Body> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        const data: unknown = JSON.parse(text);
        if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error('not an object');
        resolve(data as Body);
      } catch {
        reject(new JitError('INVALID_ARGUMENT', 'The request body is not a JSON object.', { details: { field: 'body' } }));
      }
    });
    req.on('error', reject);
  });
}

class BodyTooLarge extends Error {}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new JitError('INVALID_ARGUMENT', `There is no port ${port}: use 1-65535, or 0 for any free one.`, { details: { field: 'port' } });
  }
  checkBind(host, options.token);
  const loopbackOnly = isLoopbackHost(host);
  const assets = loadAssets(options.assetsDir ?? path.join(__dirname, '..', 'webapp'));
  const csrfToken = newSecret();
  const api: ApiContext = { tracker: options.tracker, actor: options.actor, gateCache: new GateCache() };
  const streams = new Set<http.ServerResponse>();

  const broadcast = (batch: ChangeBatch): void => {
    let message = '';
    for (const event of batch.events) message += `event: jit-event\ndata: ${JSON.stringify(event)}\n\n`;
    message += `event: changed\ndata: ${JSON.stringify({ events: batch.events.length, reset: batch.reset })}\n\n`;
    for (const res of streams) {
      res.write(message);
      if (res.writableLength > MAX_STREAM_BACKLOG_BYTES) {
        streams.delete(res);
        res.destroy();
      }
    }
  };
  const unsubscribe = options.changes?.onChange(broadcast);

  const openStream = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (streams.size >= MAX_STREAMS) {
      res.setHeader('retry-after', '5');
      return refuse(res, 503, `This server already feeds ${MAX_STREAMS} live streams.`, 'Close some of the open pages (each holds one stream), then reload.');
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    streams.add(res);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      clearInterval(heartbeat);
      streams.delete(res);
    });
  };

  const serveAsset = (req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean => {
    const asset = assets.get(pathname === '/' ? '/index.html' : pathname);
    if (!asset) return false;
    if (req.headers['if-none-match'] === asset.etag) {
      send(res, 304, '', { etag: asset.etag, 'cache-control': 'no-cache' });
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    send(res, 200, req.method === 'HEAD' ? '' : gzip ? asset.gzip : asset.body, {
      'content-type': asset.type,
      'cache-control': 'no-cache',
      etag: asset.etag,
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    return true;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (!hostAllowed(req, loopbackOnly)) {
      return refuse(res, 403, `This server answers only to a loopback name (localhost, 127.0.0.1, [::1]), not "${req.headers.host ?? ''}".`);
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (options.token !== undefined) {
      const given = url.pathname === '/' && method === 'GET' ? (url.searchParams.get('token') ?? undefined) : undefined;
      if (given !== undefined && sameSecret(given, options.token)) {
        // Opened from the printed address: keep the token in a cookie the page's scripts cannot read, and drop it from the address bar.
        send(res, 303, '', { location: '/', 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/` });
        return;
      }
      if (!sameSecret(requestToken(req), options.token)) {
        return refuse(res, 401, 'This server needs its access token.', 'Open the address `jit serve` printed (it carries ?token=...), or send `Authorization: Bearer TOKEN`.');
      }
    }
    if (!url.pathname.startsWith('/api/')) {
      if ((method === 'GET' || method === 'HEAD') && serveAsset(req, res, url.pathname)) return;
      return refuse(res, 404, `Nothing at ${url.pathname}.`);
    }
    if (url.pathname === '/api/session' && method === 'GET') return sendJson(res, 200, { csrf_token: csrfToken, actor: options.actor, version: options.version ?? null });
    if (url.pathname === '/api/events/stream' && method === 'GET') return openStream(req, res);
    const match = findRoute(method, url.pathname);
    if (!match) return refuse(res, 404, `No API at ${url.pathname}.`, 'See docs/web.md for the endpoints.');
    if (!('route' in match)) {
      res.setHeader('allow', match.methods.join(', '));
      return refuse(res, 405, `${method} is not allowed on ${url.pathname}.`);
    }
    let body: Body = {};
    if (method === 'POST') {
      const problem = csrfProblem(req, csrfToken);
      if (problem) return refuse(res, 403, `Refused: ${problem}.`, 'Actions are accepted only from the page this server serves.');
      try {
        body = await readBody(req);
      } catch (error) {
        if (error instanceof BodyTooLarge) {
          res.setHeader('connection', 'close');
          return refuse(res, 413, `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
        }
        throw error;
      }
    }
    const result = await match.route.handle(api, match.params, url.searchParams, body);
    if (method === 'POST' && !options.changes) broadcast({ events: [], reset: false });
    sendJson(res, 200, result);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendError(res, error);
    });
  });
  // Slow or endless requests cannot hold the server: headers and bodies are small.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new JitError('INVALID_ARGUMENT', `Cannot serve on ${host}:${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}.`, {
          suggestions: ['Choose another port with --port N (0 picks a free one).'],
          details: { field: 'port', errno: error.code },
          cause: error,
        }),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  api.gateCache.warm(options.tracker);
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${urlHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        unsubscribe?.();
        for (const res of streams) res.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
