/**
 * What guards `jit serve`: the page loads nothing from elsewhere and runs no
 * inline script (CSP), a bind beyond loopback needs an access token, a page
 * on another site cannot act through a supervisor's browser (CSRF token +
 * same-origin checks) nor reach a loopback server through a rebound DNS name
 * (Host check), and request bodies are small.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { JitError } from '../store/core.js';

/** Actions carry a few short fields; anything bigger is not ours. */
export const MAX_BODY_BYTES = 16 * 1024;
export const CSRF_HEADER = 'x-jit-csrf';
export const TOKEN_COOKIE = 'jit_token';

/** The page's scripts and styles come from this server only; nothing inline, no frames, no forms, no other origin. */
export const SECURITY_HEADERS: OutgoingHttpHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare.toLowerCase() === '0:0:0:0:0:0:0:1';
  return false;
}

export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The bind the options ask for, or a refusal: beyond loopback only with an
 * access token (a person may have meant to share a view, never to share it
 * with the whole network unasked).
 */
export function checkBind(host: string, token: string | undefined): void {
  if (isLoopbackHost(host) || token !== undefined) return;
  throw new JitError('INVALID_ARGUMENT', `Refusing to serve on ${host} without an access token: anyone who can reach that address could read and change the tracker.`, {
    suggestions: [
      'Add --token to have jit make one and print it (or --token SECRET to choose it), then open the printed address.',
      'Or leave --host out to serve on 127.0.0.1 only.',
    ],
    details: { field: 'host', host },
  });
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw; // not valid percent-encoding: compared as sent, so a mangled cookie is a wrong token, not a server error
    }
  }
  return undefined;
}

/** The access token of a request: `Authorization: Bearer`, or the cookie the page got when opened with ?token=. */
export function requestToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return cookieValue(req, TOKEN_COOKIE);
}

/**
 * A loopback server answers only to loopback names: a page on evil.example
 * whose DNS name is rebound to 127.0.0.1 sends `Host: evil.example` and is
 * turned away. A wider bind is guarded by its token instead.
 */
export function hostAllowed(req: IncomingMessage, loopbackOnly: boolean): boolean {
  if (!loopbackOnly) return true;
  const host = req.headers.host;
  if (!host) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  return isLoopbackHost(name);
}

/**
 * A state-changing request comes from our own page: it carries the per-server
 * CSRF token (which only a same-origin script can read from /api/session), and
 * whatever the browser says of its origin is this server.
 */
export function csrfProblem(req: IncomingMessage, csrfToken: string): string | undefined {
  const header = req.headers[CSRF_HEADER];
  if (!sameSecret(typeof header === 'string' ? header : undefined, csrfToken)) return `missing or wrong ${CSRF_HEADER} header (get it from GET /api/session)`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a ${site} request`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return 'an unreadable Origin header';
    }
    if (originHost !== req.headers.host) return `a request from ${origin}`;
  } else if (origin === 'null') return 'a request from an opaque origin';
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) return 'a body that is not application/json';
  return undefined;
}
