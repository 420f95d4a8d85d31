/** The board: a column per state, a card per issue, filtered by text, label patterns, assignee and type. */
import { Component } from 'preact';
import { useMemo } from 'preact/hooks';
import type { BoardIssue } from './api.js';
import { filterIssues, GATE_GLYPH, PRIORITY_GLYPH, shortId, STATE_GLYPH, STATE_LABEL, STATES, type Filters } from './model.js';

/** A card re-renders only when its issue was replaced: a live change patches one issue of the list and keeps the others as they were. */
class Card extends Component<{ issue: BoardIssue }> {
  override shouldComponentUpdate({ issue }: { issue: BoardIssue }): boolean {
    return issue !== this.props.issue;
  }

  override render({ issue }: { issue: BoardIssue }) {
    return <CardBody issue={issue} />;
  }
}

function CardBody({ issue }: { issue: BoardIssue }) {
  const open = () => (location.hash = `#/issue/${issue.id}`);
  return (
    <li>
      <a class={`card state-${issue.state} priority-${issue.priority}`} href={`#/issue/${issue.id}`} data-id={issue.id} onClick={(e) => (e.preventDefault(), open())}>
        <span class="card-title">{issue.title}</span>
        <span class="card-meta">
          <span class="id">{shortId(issue.id)}</span>
          <span class={`priority priority-${issue.priority}`} title={`priority ${issue.priority}`}>
            {PRIORITY_GLYPH[issue.priority]} {issue.priority}
          </span>
          {issue.assignee && <span class="assignee">@{issue.assignee}</span>}
        </span>
        {issue.labels.length > 0 && (
          <span class="labels">
            {issue.labels.map((label) => (
              <span class="label" key={label}>
                {label}
              </span>
            ))}
          </span>
        )}
        {issue.gates_error && (
          <span class="gates">
            <span class="gate gate-failed" title={issue.gates_error.message}>
              ⚠ unreadable file ({issue.gates_error.code})
            </span>
          </span>
        )}
        {issue.gates_required.length > 0 && (
          <span class="gates">
            {issue.gates_required.map((key) => {
              const status = issue.gates_status[key]?.status ?? 'pending';
              return (
                <span class={`gate gate-${status}`} key={key} title={`gate ${key}: ${status}`}>
                  {GATE_GLYPH[status]} {key}
                </span>
              );
            })}
          </span>
        )}
      </a>
    </li>
  );
}

export function BoardView({ issues, filters, setFilters }: { issues: BoardIssue[]; filters: Filters; setFilters: (f: Filters) => void }) {
  const assignees = useMemo(() => [...new Set(issues.map((i) => i.assignee).filter((a): a is string => a !== null))].sort(), [issues]);
  const types = useMemo(() => [...new Set(issues.flatMap((i) => i.labels.filter((l) => l.startsWith('type:')).map((l) => l.slice(5))))].sort(), [issues]);
  const shown = useMemo(() => filterIssues(issues, filters), [issues, filters]);
  const byState = useMemo(() => {
    const columns = new Map<string, BoardIssue[]>(STATES.map((s) => [s, []]));
    for (const issue of shown) columns.get(issue.state)?.push(issue);
    return columns;
  }, [shown]);
  const set = (patch: Partial<Filters>) => setFilters({ ...filters, ...patch });

  return (
    <section aria-label="Board">
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search <input type="search" value={filters.text} placeholder="title or id" onInput={(e) => set({ text: e.currentTarget.value })} />
        </label>
        <label>
          Labels <input type="text" value={filters.labels} placeholder="epic:* area:ui" onInput={(e) => set({ labels: e.currentTarget.value })} />
        </label>
        <label>
          Assignee
          <select value={filters.assignee} onChange={(e) => set({ assignee: e.currentTarget.value })}>
            <option value="">anyone</option>
            <option value="(nobody)">nobody</option>
            {assignees.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label>
          Type
          <select value={filters.type} onChange={(e) => set({ type: e.currentTarget.value })}>
            <option value="">any</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <span class="count" aria-live="polite">
          {shown.length} of {issues.length} issues
        </span>
      </form>
      <div class="board">
        {STATES.map((state) => {
          const cards = byState.get(state)!;
          return (
            <section class={`column state-${state}`} key={state} aria-label={`${STATE_LABEL[state]}: ${cards.length}`} data-state={state}>
              <h2>
                <span aria-hidden="true">{STATE_GLYPH[state]}</span> {STATE_LABEL[state]} <span class="n">{cards.length}</span>
              </h2>
              <ul>
                {cards.map((issue) => (
                  <Card issue={issue} key={issue.id} />
                ))}
              </ul>
            </section>
          );
        })}
      </div>
    </section>
  );
}
