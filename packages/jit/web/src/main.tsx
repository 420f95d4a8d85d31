/**
 * The jit web view: Board, Graph, Issue and Activity over the server's JSON
 * API, kept live by its event stream. Every string from the store is
 * rendered by Preact as text (never as HTML), so a title like
 * `<img src=x onerror=...>` shows as those characters.
 */
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, get, issuePath, openSession, type BoardIssue, type GateDefinition, type Issue, type JitEvent, type Session } from './api.js';
import { ActivityView } from './activity.js';
import { BoardView } from './board.js';
import { GraphView, loadGraphEarly } from './graph.js';
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
/** Changes arriving this close together are fetched and drawn once (an agent's command often appends a few events). */
const PATCH_DELAY_MS = 25;
/** More changed issues than this at once (a bulk import, a pull): one fresh list is cheaper than many single reads. */
const MAX_PATCHED_ISSUES = 40;
/** Events that add or remove issues or edges: the graph fetches its edges again (other changes only recolour it). */
const SHAPE_EVENTS = new Set(['issue_created', 'issue_deleted', 'dependency_added', 'dependency_removed', 'dependency_reduced']);

/** The board's shape of one issue (the list's summary plus its gates), from the issue's full record. */
function boardIssue(issue: Issue): BoardIssue {
  const { id, title, state, priority, assignee, labels, dependencies, created_at, updated_at, gates_required, gates_status } = issue;
  return { id, title, state, priority, assignee, labels, dependencies, created_at, updated_at, gates_required, gates_status };
}

/** The list with the re-read issues replaced in place or removed when gone; a new issue goes at the end (the next full load puts it in the server's order). */
function patchIssues(list: BoardIssue[], changed: Map<string, BoardIssue | null>): BoardIssue[] {
  const next: BoardIssue[] = [];
  for (const issue of list) {
    if (!changed.has(issue.id)) next.push(issue);
    else {
      const fresh = changed.get(issue.id);
      if (fresh) next.push(fresh);
      changed.delete(issue.id);
    }
  }
  for (const fresh of changed.values()) if (fresh) next.push(fresh);
  return next;
}

async function loadBoard(): Promise<{ issues: BoardIssue[]; gates: GateDefinition[] }> {
  const [list, registry] = await Promise.all([get<{ issues: BoardIssue[] }>('/api/issues?gates=1'), get<{ gates: GateDefinition[] }>('/api/gates')]);
  return { issues: list.issues, gates: registry.gates };
}

function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  const [session, setSession] = useState<Session | null>(null);
  const [issues, setIssues] = useState<BoardIssue[] | null>(null);
  const [gates, setGates] = useState<GateDefinition[]>([]);
  /** Bumped by every change: the issue and activity views read again. */
  const [revision, setRevision] = useState(0);
  /** Bumped when issues or edges came or went: the graph reads its edges again. */
  const [shapeRevision, setShapeRevision] = useState(0);
  const [live, setLive] = useState<JitEvent[]>([]);
  /** Bumped by a full reload after the first (a reconnect, a log reset): the activity view reads the log's history again. */
  const [historyRevision, setHistoryRevision] = useState(0);
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

  /*
   * One stream for the page. Each connect (the first and every reconnect) loads the whole board once; after that
   * the streamed events say which issues changed, and only those are read again (GET /api/issues/ID) and patched
   * into the list. Loads and patches run one after another, in the order the events came, so an older answer
   * never overwrites a newer one.
   */
  useEffect(() => {
    const stream = new EventSource('/api/events/stream');
    let queue: Promise<void> = Promise.resolve();
    const run = (task: () => Promise<void>) => {
      queue = queue.then(task).catch((error: Error) => setLoadError(error.message));
    };
    let loadedOnce = false;
    const reload = () => {
      // The first load is what the open views already read; a later one (a reconnect, a reset) may bring anything new.
      const again = loadedOnce;
      loadedOnce = true;
      run(async () => {
        const board = await loadBoard();
        setIssues(board.issues);
        setGates(board.gates);
        setLoadError(null);
        if (again) {
          // Events appended while the stream was down were never streamed, and after a reset the old ones may be gone.
          setLive([]);
          setHistoryRevision((r) => r + 1);
          setRevision((r) => r + 1);
          setShapeRevision((r) => r + 1);
        }
      });
    };
    const pending = new Set<string>();
    let shapeChanged = false;
    let registryChanged = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const patch = () => {
      timer = undefined;
      const ids = [...pending];
      const shape = shapeChanged;
      const registry = registryChanged;
      pending.clear();
      shapeChanged = registryChanged = false;
      if (ids.length > MAX_PATCHED_ISSUES) return reload();
      run(async () => {
        const changed = new Map<string, BoardIssue | null>();
        // A read that fails (the server busy or away) must not leave the board behind: the whole list is read instead.
        const read = Promise.all(
          ids.map((id) =>
            get<Issue>(issuePath(id)).then(
              (issue) => void changed.set(id, boardIssue(issue)),
              (error: unknown) => {
                if (error instanceof ApiError && error.code === 'ISSUE_NOT_FOUND') changed.set(id, null);
                else throw error;
              },
            ),
          ),
        );
        if (!(await read.then(() => true, () => false))) return reload();
        if (registry) setGates((await get<{ gates: GateDefinition[] }>('/api/gates')).gates);
        setIssues((list) => (list ? patchIssues(list, changed) : list));
        setRevision((r) => r + 1);
        if (shape) setShapeRevision((r) => r + 1);
      });
    };
    let opened = false;
    stream.addEventListener('open', () => {
      setConnected(true);
      opened = true;
      reload(); // the first load, or whatever happened while the stream was down
    });
    stream.addEventListener('error', () => {
      setConnected(false);
      // No stream at all (refused, or the server is away): still show what there is.
      if (!opened && !loadedOnce) reload();
    });
    stream.addEventListener('jit-event', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as JitEvent;
      setLive((events) => [...events.slice(-(LIVE_EVENTS - 1)), event]);
      if (event.issue_id) pending.add(event.issue_id);
      // The registry is read again on its own events (gate_definition_created/removed, which name no issue) and when an issue comes to require a gate.
      if (!event.issue_id || event.type === 'gate_added') registryChanged = true;
      if (SHAPE_EVENTS.has(event.type)) shapeChanged = true;
    });
    stream.addEventListener('changed', (message) => {
      const { events, reset } = JSON.parse((message as MessageEvent<string>).data) as { events: number; reset: boolean };
      // A reset (the log was cut or replaced), or a change announced without its events (a store with no event log): read everything.
      if (reset || events === 0) {
        pending.clear();
        return reload();
      }
      timer ??= setTimeout(patch, PATCH_DELAY_MS);
    });
    return () => {
      clearTimeout(timer);
      stream.close();
    };
  }, []);

  const refresh = useCallback(() => setRevision((r) => r + 1), []);

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
        {route.view === 'graph' ? (
          // The graph reads its own data: it does not wait for the board's list (the node states come from it once it is there).
          <GraphView issues={issues ?? []} shapeRevision={shapeRevision} />
        ) : issues === null ? (
          <p class="loading">Loading…</p>
        ) : route.view === 'board' ? (
          <BoardView issues={issues} filters={filters} setFilters={setFilters} />
        ) : route.view === 'activity' ? (
          <ActivityView live={live} historyRevision={historyRevision} />
        ) : (
          <IssueView id={route.id} issues={issues} gates={gates} revision={revision} onChanged={refresh} />
        )}
      </main>
    </>
  );
}

// Opened on the graph: its data, the layout worker and the layout start before the page's first render.
if (parseRoute(location.hash).view === 'graph') loadGraphEarly();
render(<App />, document.getElementById('app')!);
