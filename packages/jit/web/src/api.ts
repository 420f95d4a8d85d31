/**
 * The page's calls to the server's JSON API (src/web/api.ts). Actions carry
 * the per-server CSRF token from /api/session; a refused action throws an
 * ApiError with the store's code, message and hints, which the page shows.
 */
import type { GateDefinition, Issue, IssueSummary, JitEvent, StatusReport } from '../../src/store/core.js';

export type { GateDefinition, Issue, IssueSummary, JitEvent, StatusReport };
export type BoardIssue = IssueSummary & Pick<Issue, 'gates_required' | 'gates_status'> & { gates_error?: { code: string; message: string } };
export interface GraphData {
  nodes: IssueSummary[];
  edges: { from: string; to: string }[];
}
export interface Session {
  csrf_token: string;
  actor: string;
  version: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly suggestions: string[],
  ) {
    super(message);
  }
}

let csrfToken = '';

async function answer<T>(response: Response): Promise<T> {
  const data = (await response.json().catch(() => null)) as unknown;
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string; suggestions?: string[] } } | null)?.error;
    throw new ApiError(error?.code ?? `HTTP_${response.status}`, error?.message ?? `The server answered ${response.status}.`, error?.suggestions ?? []);
  }
  return data as T;
}

export async function get<T>(path: string): Promise<T> {
  return answer<T>(await fetch(path, { headers: { accept: 'application/json' } }));
}

export async function post<T>(path: string, body: Record<string, unknown> = {}): Promise<T> {
  return answer<T>(
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-jit-csrf': csrfToken },
      body: JSON.stringify(body),
    }),
  );
}

export async function openSession(): Promise<Session> {
  const session = await get<Session>('/api/session');
  csrfToken = session.csrf_token;
  return session;
}

export const issuePath = (id: string) => `/api/issues/${encodeURIComponent(id)}`;
