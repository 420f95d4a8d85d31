/**
 * The filter language of `issue update --filter` (the original jit's syntax):
 * terms `field:value` joined by AND, OR and NOT, with parentheses; NOT binds
 * tighter than AND, AND tighter than OR. Fields (docs/cli.md#filters):
 * state, priority, assignee (`none` for unassigned), label (`type:*` for a
 * whole namespace), id (a prefix), title (case-insensitive text). A small
 * recursive-descent parser: no package speaks this grammar.
 */
import { JitError } from './errors.js';
import { checkAssignee, checkLabelFilter, labelMatcher, parsePriority, parseState } from './rules.js';
import type { IssueSummary } from './tracker-api.js';

export const FILTER_FIELDS = ['state', 'priority', 'assignee', 'label', 'id', 'title'] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

/** Parentheses and NOTs nest at most this deep: the parser and the matcher recurse once per level, and the stack is finite. */
export const FILTER_MAX_DEPTH = 100;

/** Characters of the expression an error quotes on each side of the mistake. */
const QUOTED_AROUND = 60;

export type IssueMatcher = (issue: IssueSummary) => boolean;

interface Token {
  kind: 'and' | 'or' | 'not' | '(' | ')' | 'term' | 'end';
  text: string;
  /** 0-based offset in the expression. */
  at: number;
}

/** Parses a filter expression into a test of an issue summary; INVALID_ARGUMENT pointing at the column of a mistake. */
export function parseFilter(expression: unknown): IssueMatcher {
  if (typeof expression !== 'string' || expression.trim() === '') {
    throw new JitError('INVALID_ARGUMENT', 'The filter is empty: give an expression such as state:ready AND label:epic:auth.', { details: { field: 'filter' } });
  }
  const tokens = tokenize(expression);
  let next = 0;
  let depth = 0;
  const deeper = (token: Token): void => {
    if (++depth > FILTER_MAX_DEPTH) throw syntaxError(expression, token, `parentheses and NOT are nested more than ${FILTER_MAX_DEPTH} deep`);
  };
  const peek = (): Token => tokens[next]!;
  const take = (): Token => tokens[next++]!;

  // or := and (OR and)* ; and := not (AND not)* ; not := NOT not | atom ; atom := ( or ) | term
  const parseOr = (): IssueMatcher => {
    const parts = [parseAnd()];
    while (peek().kind === 'or') {
      take();
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : (issue) => parts.some((part) => part(issue));
  };
  const parseAnd = (): IssueMatcher => {
    const parts = [parseNot()];
    while (peek().kind === 'and') {
      take();
      parts.push(parseNot());
    }
    return parts.length === 1 ? parts[0]! : (issue) => parts.every((part) => part(issue));
  };
  const parseNot = (): IssueMatcher => {
    if (peek().kind === 'not') {
      deeper(take());
      const inner = parseNot();
      depth--;
      return (issue) => !inner(issue);
    }
    return parseAtom();
  };
  const parseAtom = (): IssueMatcher => {
    const token = take();
    if (token.kind === '(') {
      deeper(token);
      const inner = parseOr();
      const close = take();
      if (close.kind !== ')') throw syntaxError(expression, close, `expected ) to close the ( at column ${token.at + 1}`);
      depth--;
      return inner;
    }
    if (token.kind === 'term') return termMatcher(expression, token);
    throw syntaxError(expression, token, token.kind === 'end' ? 'the expression ends where a term (field:value) or ( was expected' : `expected a term (field:value) or (, not ${shortened(token.text)}`);
  };

  const matcher = parseOr();
  const rest = peek();
  if (rest.kind !== 'end') throw syntaxError(expression, rest, `expected AND, OR or the end, not ${shortened(rest.text)}`);
  return matcher;
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const char = expression[i]!;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (char === '(' || char === ')') {
      tokens.push({ kind: char, text: char, at: i++ });
      continue;
    }
    const start = i;
    let text = '';
    // A term runs to whitespace or a parenthesis; a quoted part ("two words") may hold either.
    while (i < expression.length && !/[\s()]/.test(expression[i]!)) {
      if (expression[i] === '"') {
        const close = expression.indexOf('"', i + 1);
        if (close < 0) throw syntaxError(expression, { kind: 'term', text: '"', at: i }, 'this quote is never closed');
        text += expression.slice(i + 1, close);
        i = close + 1;
      } else text += expression[i++];
    }
    const word = text.toUpperCase();
    const kind = word === 'AND' || word === '&&' ? 'and' : word === 'OR' || word === '||' ? 'or' : word === 'NOT' || word === '!' ? 'not' : 'term';
    tokens.push({ kind, text, at: start });
  }
  tokens.push({ kind: 'end', text: 'the end', at: expression.length });
  return tokens;
}

function termMatcher(expression: string, token: Token): IssueMatcher {
  const colon = token.text.indexOf(':');
  const field = (colon < 0 ? '' : token.text.slice(0, colon).toLowerCase()) as FilterField;
  const value = colon < 0 ? '' : token.text.slice(colon + 1);
  if (!(FILTER_FIELDS as readonly string[]).includes(field)) {
    throw syntaxError(expression, token, `${shortened(token.text)} is not a term: use field:value with field one of ${FILTER_FIELDS.join(', ')}`);
  }
  if (value === '') throw syntaxError(expression, token, `${field}: has no value`);
  try {
    switch (field) {
      case 'state': {
        const state = parseState(value);
        return (issue) => issue.state === state;
      }
      case 'priority': {
        const priority = parsePriority(value);
        return (issue) => issue.priority === priority;
      }
      case 'assignee': {
        if (value === 'none') return (issue) => issue.assignee === null;
        const assignee = checkAssignee('assignee', value);
        return (issue) => issue.assignee === assignee;
      }
      case 'label': {
        const matches = labelMatcher(checkLabelFilter(value));
        return (issue) => matches(issue.labels);
      }
      case 'id': {
        const prefix = value.toLowerCase();
        if (!/^[0-9a-f-]+$/.test(prefix)) throw new JitError('INVALID_ARGUMENT', `${shortened(value)} is not an id prefix (hex digits and dashes)`);
        return (issue) => issue.id.startsWith(prefix);
      }
      case 'title': {
        const needle = value.toLowerCase();
        return (issue) => issue.title.toLowerCase().includes(needle);
      }
    }
  } catch (error) {
    if (error instanceof JitError && error.code === 'INVALID_ARGUMENT') throw syntaxError(expression, token, error.message.replace(/\.$/, ''));
    throw error;
  }
}

/** A term as an error names it: a long one cut short. */
function shortened(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function syntaxError(expression: string, token: Token, problem: string): JitError {
  const column = token.at + 1;
  // A long expression is quoted around the mistake only: the error stays readable (and small, for an MCP client).
  const start = Math.max(0, token.at - QUOTED_AROUND);
  const end = Math.min(expression.length, token.at + QUOTED_AROUND);
  const oneLine = `${start > 0 ? '…' : ''}${expression.slice(start, end).replace(/[\r\n\t]/g, ' ')}${end < expression.length ? '…' : ''}`;
  const at = token.at - start + (start > 0 ? 1 : 0);
  // Errors print on one line (the CLI's error line, an MCP message): the caret goes into the expression itself.
  const pointed = `${oneLine.slice(0, at)}^${oneLine.slice(at)}`;
  return new JitError('INVALID_ARGUMENT', `Invalid filter at column ${column}: ${problem}. Here (^): ${pointed}`, {
    suggestions: ['Filters combine field:value terms with AND, OR, NOT and parentheses, e.g. state:ready AND (label:type:bug OR priority:high).'],
    details: { field: 'filter', column, pointer: `${oneLine}\n${' '.repeat(at)}^` },
  });
}
