/** The event log, newest first: the recent history once, then every event the server streams as it is appended. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get, type JitEvent } from './api.js';
import { shortId } from './model.js';

const COMMON = new Set(['type', 'id', 'issue_id', 'timestamp']);

export function EventRow({ event }: { event: JitEvent }) {
  const extra = Object.entries(event)
    .filter(([key]) => !COMMON.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return (
    <li class={`event event-${event.type}`} data-event={event.id}>
      <time dateTime={event.timestamp}>{event.timestamp.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>
      {event.issue_id ? <a href={`#/issue/${event.issue_id}`}>{shortId(event.issue_id)}</a> : <span class="id">—</span>}
      <span class="type">{event.type}</span>
      <span class="extra">{extra}</span>
    </li>
  );
}

export function ActivityView({ live, historyRevision }: { live: JitEvent[]; historyRevision: number }) {
  const [history, setHistory] = useState<JitEvent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Loaded once; the live stream adds to it (a reconnect or a reset of the log reloads it).
  useEffect(() => {
    let current = true;
    get<{ events: JitEvent[] }>('/api/events?limit=200').then(
      (data) => current && (setHistory(data.events), setError(null)),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [historyRevision]);
  const events = useMemo(() => {
    const seen = new Set<string>();
    const all: JitEvent[] = [];
    for (const event of [...(history ?? []), ...live]) if (!seen.has(event.id)) (seen.add(event.id), all.push(event));
    return all.reverse();
  }, [history, live]);
  if (error) return <p class="error" role="alert">{error}</p>;
  return (
    <section aria-label="Activity">
      <h2>Activity <span class="n">{events.length}</span></h2>
      <ol class="events" aria-live="polite" aria-relevant="additions">
        {events.map((event) => (
          <EventRow event={event} key={event.id} />
        ))}
      </ol>
    </section>
  );
}
