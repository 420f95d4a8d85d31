/**
 * The jit web view: Board, Graph, Issue and Activity over the server's JSON
 * API, kept live by its event stream. Every string from the store is
 * rendered by Preact as text (never as HTML), so a title like
 * `<img src=x onerror=...>` shows as those characters.
 */
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { get, openSession, type BoardIssue, type GateDefinition, type JitEvent, type Session } from './api.js';
import { ActivityView } from './activity.js';
import { BoardView } from './board.js';
import { GraphView } from './graph.js';
import { IssueView } from './issue.js';
import { NO_FILTERS, type Filters } from './model.js';

type Route = { view: 'board' } | { view: 'graph' } | { view: 'activity' } | { view: 'issue'; id: string };

/** An address typed or pasted by hand may hold a stray `%`: the id is then taken as written and the server says what is wrong with it. */
function decodeId(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

function parseRoute(hash: string): Route {
  const [, view, id] = hash.replace(/^#/, '').split('/');
  if (view === 'issue' && id) return { view: 'issue', id: decodeId(id) };
  if (view === 'graph' || view === 'activity') return { view };
  return { view: 'board' };
}

const LIVE_EVENTS = 500;

function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [session, setSession] = useState<Session | null>(null);
  const [issues, setIssues] = useState<BoardIssue[] | null>(null);
  const [gates, setGates] = useState<GateDefinition[]>([]);
  const [revision, setRevision] = useState(0);
  const [live, setLive] = useState<JitEvent[]>([]);
  const [connected, setConnected] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    openSession().then(setSession, (error: Error) => setLoadError(error.message));
  }, []);

  // One stream for the page: each appended event (Activity) and a "changed" note that makes every view refetch.
  useEffect(() => {
    const stream = new EventSource('/api/events/stream');
    let pending = 0;
    const bump = () => {
      if (pending) return;
      pending = requestAnimationFrame(() => {
        pending = 0;
        setRevision((r) => r + 1);
      });
    };
    stream.addEventListener('open', () => {
      setConnected(true);
      bump(); // after a reconnect: whatever happened meanwhile
    });
    stream.addEventListener('error', () => setConnected(false));
    stream.addEventListener('jit-event', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as JitEvent;
      setLive((events) => [...events.slice(-(LIVE_EVENTS - 1)), event]);
    });
    stream.addEventListener('changed', bump);
    return () => stream.close();
  }, []);

  const refresh = useCallback(() => setRevision((r) => r + 1), []);

  useEffect(() => {
    let current = true;
    Promise.all([get<{ issues: BoardIssue[] }>('/api/issues?gates=1'), get<{ gates: GateDefinition[] }>('/api/gates')]).then(
      ([list, registry]) => {
        if (!current) return;
        setIssues(list.issues);
        setGates(registry.gates);
        setLoadError(null);
      },
      (error: Error) => current && setLoadError(error.message),
    );
    return () => {
      current = false;
    };
  }, [revision]);

  const tab = (view: Route['view'], label: string, key: string) => (
    <a href={`#/${view}`} class={route.view === view ? 'tab active' : 'tab'} aria-current={route.view === view ? 'page' : undefined} aria-keyshortcuts={key}>
      {label}
    </a>
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (event.altKey || event.ctrlKey || event.metaKey || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
      const view = { b: 'board', g: 'graph', a: 'activity' }[event.key];
      if (view) location.hash = `#/${view}`;
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  return (
    <>
      <header class="top">
        <h1>jit</h1>
        <nav aria-label="Views">
          {tab('board', 'Board', 'b')}
          {tab('graph', 'Graph', 'g')}
          {tab('activity', 'Activity', 'a')}
        </nav>
        <span class={connected ? 'live on' : 'live off'} role="status" data-testid="live">
          {connected ? '● live' : '○ reconnecting…'}
        </span>
        {session && <span class="actor">acting as {session.actor}</span>}
      </header>
      {loadError && (
        <p class="error" role="alert">
          {loadError}
        </p>
      )}
      <main id="main">
        {issues === null ? (
          <p class="loading">Loading…</p>
        ) : route.view === 'board' ? (
          <BoardView issues={issues} filters={filters} setFilters={setFilters} />
        ) : route.view === 'graph' ? (
          <GraphView revision={revision} />
        ) : route.view === 'activity' ? (
          <ActivityView live={live} revision={revision} />
        ) : (
          <IssueView id={route.id} issues={issues} gates={gates} revision={revision} onChanged={refresh} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
