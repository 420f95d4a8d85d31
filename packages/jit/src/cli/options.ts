/**
 * Option and argument builders that validate values while commander parses,
 * so a bad value fails with INVALID_ARGUMENT (exit 2) before the store is
 * opened. Each builder records the value's type and choices for `jit --schema`.
 */
import { Argument, Option } from 'commander';
import { JitError, EVENT_TYPES, PRIORITIES, STATES, parsePriority, parseState } from '../store/core.js';

export type ValueType = 'boolean' | 'string' | 'string[]' | 'integer' | 'key=value[]';

export interface ValueMeta {
  type: ValueType;
  choices?: readonly string[];
}

const metaByParameter = new WeakMap<Option | Argument, ValueMeta>();

export function valueMeta(parameter: Option | Argument): ValueMeta {
  const recorded = metaByParameter.get(parameter);
  if (recorded) return recorded;
  const choices = parameter.argChoices;
  if (parameter instanceof Option && parameter.isBoolean()) return { type: 'boolean' };
  const variadic = parameter.variadic;
  return { type: variadic ? 'string[]' : 'string', ...(choices ? { choices } : {}) };
}

function invalid(message: string, suggestion: string): JitError {
  return new JitError('INVALID_ARGUMENT', message, { suggestions: [suggestion] });
}

function parseEventType(value: string): string {
  if (!(EVENT_TYPES as readonly string[]).includes(value)) {
    throw invalid(`Unknown event type "${value}".`, `Use one of: ${EVENT_TYPES.join(', ')}.`);
  }
  return value;
}

function integerParser(flag: string, min: number): (value: string) => number {
  return (value) => {
    const trimmed = value.trim();
    const number = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(number) || number < min) {
      throw invalid(`${flag} must be a whole number of at least ${min}, not "${value}".`, `For example: ${flag} 20`);
    }
    return number;
  };
}

function describe<T extends Option | Argument>(parameter: T, meta: ValueMeta): T {
  metaByParameter.set(parameter, meta);
  return parameter;
}

/** `--state <state>`: any state name or alias, normalised. */
export function stateOption(flags: string, help: string): Option {
  return describe(new Option(flags, help).argParser(parseState), { type: 'string', choices: STATES });
}

export function priorityOption(flags: string, help: string): Option {
  return describe(new Option(flags, help).argParser(parsePriority), { type: 'string', choices: PRIORITIES });
}

export function eventTypeOption(flags: string, help: string): Option {
  return describe(new Option(flags, help).argParser(parseEventType), { type: 'string', choices: EVENT_TYPES });
}

export function integerOption(flags: string, help: string, min = 1): Option {
  const option = new Option(flags, help);
  return describe(option.argParser(integerParser(option.long ?? option.short ?? flags, min)), { type: 'integer' });
}

/** An option that may be given several times; the values are collected in order. */
export function repeatableOption(flags: string, help: string): Option {
  const option = new Option(flags, `${help} (repeatable)`).argParser((value: string, previous: string[] | undefined) => [
    ...(previous ?? []),
    value,
  ]);
  return describe(option, { type: 'string[]' });
}

/** `--context key=value`, repeatable, collected into an object; `key=` clears the key. */
export function contextOption(flags: string, help: string): Option {
  const option = new Option(flags, `${help} (repeatable)`).argParser(
    (value: string, previous: Record<string, string> | undefined) => {
      const equals = value.indexOf('=');
      const key = equals > 0 ? value.slice(0, equals).trim() : '';
      if (key === '') {
        throw invalid(`--context expects key=value, not "${value}".`, 'For example: --context branch=feature/login');
      }
      return { ...(previous ?? {}), [key]: value.slice(equals + 1) };
    },
  );
  return describe(option, { type: 'key=value[]' });
}

export function stateArgument(name: string, help: string): Argument {
  return describe(new Argument(name, help).argParser(parseState), { type: 'string', choices: STATES });
}

export function priorityArgument(name: string, help: string): Argument {
  return describe(new Argument(name, help).argParser(parsePriority), { type: 'string', choices: PRIORITIES });
}
