/**
 * One issue: its description, what it waits for and what waits for it, its
 * gates, claim and events, and the supervisor's actions (pass/fail a manual
 * gate, release the claim, change the priority, reject). A refused action
 * shows the store's message and hints.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, get, issuePath, post, type BoardIssue, type GateDefinition, type Issue, type JitEvent } from './api.js';
import { EventRow } from './activity.js';
import { FINISHED, GATE_GLYPH, PRIORITIES, PRIORITY_GLYPH, shortId, STATE_GLYPH, STATE_LABEL } from './model.js';

function IssueLink({ id, issues }: { id: string; issues: Map<string, BoardIssue> }) {
  const other = issues.get(id);
  return (
    <li>
      <a href={`#/issue/${id}`} class={other ? `state-${other.state}` : ''}>
        <span class="id">{shortId(id)}</span> {other ? `${STATE_GLYPH[other.state]} ${STATE_LABEL[other.state]} — ${other.title}` : '(missing issue)'}
      </a>
    </li>
  );
}

export function IssueView({ id, issues, gates, revision, onChanged }: { id: string; issues: BoardIssue[]; gates: GateDefinition[]; revision: number; onChanged: () => void }) {
  const [issue, setIssue] = useState<Issue | null>(null);
  const [events, setEvents] = useState<JitEvent[]>([]);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirmReject, setConfirmReject] = useState(false);
  const [reason, setReason] = useState('');

  useEffect(() => {
    let current = true;
    Promise.all([get<Issue>(issuePath(id)), get<{ events: JitEvent[] }>(`/api/events?issue=${encodeURIComponent(id)}&limit=200`)]).then(
      ([found, log]) => {
        if (!current) return;
        setIssue(found);
        setEvents(log.events);
        setLoadError(null);
      },
      (e: unknown) => current && setLoadError(e instanceof ApiError ? e : new ApiError('ERROR', String(e), [])),
    );
    return () => {
      current = false;
    };
  }, [id, revision]);

  useEffect(() => {
    document.getElementById('main')?.querySelector('h2')?.focus();
  }, [id, issue !== null]);

  if (loadError) {
    return (
      <div class="error" role="alert">
        <p>{loadError.message}</p>
        {loadError.suggestions.map((s) => (
          <p class="hint" key={s}>{s}</p>
        ))}
      </div>
    );
  }
  if (!issue) return <p class="loading">Loading…</p>;

  const byId = new Map(issues.map((i) => [i.id, i]));
  const dependents = issues.filter((other) => other.dependencies.includes(issue.id));
  const definitions = new Map(gates.map((g) => [g.key, g]));

  const act = async (label: string, path: string, body: Record<string, unknown> = {}) => {
    setBusy(true);
    setActionError(null);
    setNotice(null);
    try {
      const result = await post<Issue & { changed?: boolean }>(`${issuePath(issue.id)}/${path}`, body);
      setIssue(result);
      setNotice(result.changed === false ? `${label}: no change (already so).` : `${label}: done.`);
      onChanged();
    } catch (e) {
      setActionError(e instanceof ApiError ? e : new ApiError('ERROR', String(e), []));
    } finally {
      setBusy(false);
      setConfirmReject(false);
    }
  };

  return (
    <article class={`issue state-${issue.state}`} aria-labelledby="issue-title" data-id={issue.id}>
      <h2 id="issue-title" tabIndex={-1}>
        {issue.title}
      </h2>
      <dl class="fields">
        <dt>id</dt>
        <dd class="id">{issue.id}</dd>
        <dt>state</dt>
        <dd class={`state state-${issue.state}`} data-testid="state">
          {STATE_GLYPH[issue.state]} {STATE_LABEL[issue.state]}
        </dd>
        <dt>priority</dt>
        <dd>
          <span class={`priority priority-${issue.priority}`}>
            {PRIORITY_GLYPH[issue.priority]} {issue.priority}
          </span>{' '}
          <label class="inline">
            <span class="sr-only">New priority</span>
            <select disabled={busy} value={issue.priority} aria-label="Change priority" onChange={(e) => act('Priority', 'priority', { priority: e.currentTarget.value })}>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
        </dd>
        <dt>assignee</dt>
        <dd>
          {issue.assignee ?? 'nobody'}
          {issue.assignee && (
            <form class="inline" onSubmit={(e) => (e.preventDefault(), act('Release', 'release', reason.trim() ? { reason: reason.trim() } : {}))}>
              <input type="text" value={reason} placeholder="reason (optional)" aria-label="Reason for the release" onInput={(e) => setReason(e.currentTarget.value)} />
              <button type="submit" disabled={busy}>
                Release claim
              </button>
            </form>
          )}
        </dd>
        <dt>labels</dt>
        <dd>{issue.labels.length ? issue.labels.map((l) => <span class="label" key={l}>{l}</span>) : 'none'}</dd>
        <dt>created</dt>
        <dd>{issue.created_at}</dd>
        <dt>updated</dt>
        <dd>{issue.updated_at}</dd>
      </dl>
      <div class="actions">
        {!FINISHED.has(issue.state) &&
          (confirmReject ? (
            <>
              <button type="button" class="danger" disabled={busy} onClick={() => act('Reject', 'reject')}>
                Confirm: reject this issue
              </button>
              <button type="button" onClick={() => setConfirmReject(false)}>
                Cancel
              </button>
            </>
          ) : (
            <button type="button" onClick={() => setConfirmReject(true)}>
              Reject…
            </button>
          ))}
      </div>
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      {actionError && (
        <div class="error" role="alert">
          <p>
            {actionError.message} <span class="code">[{actionError.code}]</span>
          </p>
          {actionError.suggestions.map((s) => (
            <p class="hint" key={s}>
              Hint: {s}
            </p>
          ))}
        </div>
      )}
      <h3>Description</h3>
      {issue.description ? <pre class="description">{issue.description}</pre> : <p class="none">No description.</p>}
      <h3>Gates</h3>
      {issue.gates_required.length === 0 ? (
        <p class="none">No gates.</p>
      ) : (
        <table class="gates-table">
          <thead>
            <tr>
              <th scope="col">gate</th>
              <th scope="col">status</th>
              <th scope="col">by</th>
              <th scope="col">when</th>
              <th scope="col">
                <span class="sr-only">actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {issue.gates_required.map((key) => {
              const status = issue.gates_status[key];
              const value = status?.status ?? 'pending';
              const definition = definitions.get(key);
              return (
                <tr key={key} data-gate={key}>
                  <th scope="row">
                    {key}
                    {definition && <span class="gate-title"> — {definition.title}</span>}
                    {definition?.auto && <span class="auto"> (automatic)</span>}
                  </th>
                  <td class={`gate gate-${value}`} data-testid="gate-status">
                    {GATE_GLYPH[value]} {value}
                  </td>
                  <td>{status?.updated_by ?? ''}</td>
                  <td>{status?.updated_at ?? ''}</td>
                  <td>
                    {!definition?.auto && (
                      <>
                        <button type="button" disabled={busy || value === 'passed'} onClick={() => act(`Gate ${key} passed`, `gates/${encodeURIComponent(key)}/pass`)}>
                          Pass {key}
                        </button>{' '}
                        <button type="button" disabled={busy || value === 'failed'} onClick={() => act(`Gate ${key} failed`, `gates/${encodeURIComponent(key)}/fail`)}>
                          Fail {key}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div class="deps">
        <section>
          <h3>Waits for ({issue.dependencies.length})</h3>
          {issue.dependencies.length ? (
            <ul>
              {issue.dependencies.map((dep) => (
                <IssueLink id={dep} issues={byId} key={dep} />
              ))}
            </ul>
          ) : (
            <p class="none">Nothing.</p>
          )}
        </section>
        <section>
          <h3>Waited for by ({dependents.length})</h3>
          {dependents.length ? (
            <ul>
              {dependents.map((d) => (
                <IssueLink id={d.id} issues={byId} key={d.id} />
              ))}
            </ul>
          ) : (
            <p class="none">Nothing.</p>
          )}
        </section>
      </div>
      {Object.keys(issue.context).length > 0 && (
        <>
          <h3>Context</h3>
          <dl class="fields">
            {Object.entries(issue.context).map(([k, v]) => (
              <>
                <dt key={`k${k}`}>{k}</dt>
                <dd key={`v${k}`}>{v}</dd>
              </>
            ))}
          </dl>
        </>
      )}
      <h3>Events</h3>
      <ol class="events">
        {[...events].reverse().map((event) => (
          <EventRow event={event} key={event.id} />
        ))}
      </ol>
    </article>
  );
}
