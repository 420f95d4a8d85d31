/** What the views share: states in board order, how each is told apart without colour, and the board's filters. */
import type { BoardIssue, IssueSummary } from './api.js';

export const STATES = ['backlog', 'ready', 'in_progress', 'gated', 'done', 'rejected', 'archived'] as const;
export type StateName = (typeof STATES)[number];

/** A glyph and a word for each state: colour is never the only signal. */
export const STATE_GLYPH: Record<string, string> = {
  backlog: '○',
  ready: '●',
  in_progress: '▶',
  gated: '◆',
  done: '✓',
  rejected: '✗',
  archived: '▪',
};
export const STATE_LABEL: Record<string, string> = {
  backlog: 'backlog',
  ready: 'ready',
  in_progress: 'in progress',
  gated: 'gated',
  done: 'done',
  rejected: 'rejected',
  archived: 'archived',
};
export const FINISHED = new Set(['done', 'rejected', 'archived']);

export const PRIORITY_GLYPH: Record<string, string> = { critical: '‼', high: '▲', normal: '–', low: '▽' };
export const PRIORITIES = ['low', 'normal', 'high', 'critical'] as const;

export const GATE_GLYPH: Record<string, string> = { passed: '✓', failed: '✗', pending: '…' };

export const shortId = (id: string) => id.slice(0, 8);

export interface Filters {
  text: string;
  /** Label patterns, space- or comma-separated; `*` is a wildcard (`epic:*`, `*:ui`); an issue must match every one. */
  labels: string;
  assignee: string;
  type: string;
}

export const NO_FILTERS: Filters = { text: '', labels: '', assignee: '', type: '' };

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

export function filterIssues<T extends IssueSummary | BoardIssue>(issues: readonly T[], filters: Filters): T[] {
  const patterns = filters.labels
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(globToRegExp);
  const text = filters.text.trim().toLowerCase();
  return issues.filter(
    (issue) =>
      (filters.assignee === '' || (filters.assignee === '(nobody)' ? issue.assignee === null : issue.assignee === filters.assignee)) &&
      (filters.type === '' || issue.labels.includes(`type:${filters.type}`)) &&
      patterns.every((pattern) => issue.labels.some((label) => pattern.test(label))) &&
      (text === '' || issue.title.toLowerCase().includes(text) || issue.id.startsWith(text)),
  );
}
