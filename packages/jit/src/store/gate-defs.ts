/**
 * Gate definitions that run checks: their input rules, the defaults of the
 * fields older files lack (stage, mode, checker), and the hash that trust is
 * keyed by (the exact command, environment, folder, timeout, stage and
 * pass_context: any change to what would run needs trusting again).
 */
import { JitError } from './errors.js';
import { GATE_MODES, GATE_STAGES } from './model.js';
import type { GateChecker, GateDefinition, GateMode, GateStage, Issue } from './model.js';
import { checkBoolean, checkDescription, checkGateKey, checkTitle, preview } from './rules.js';
import type { GateDefinitionInput } from './tracker-api.js';
import { bare, command } from './suggestions.js';

/** When a checker's definition gives no timeout. */
export const DEFAULT_TIMEOUT_SECONDS = 600;
/** A day: longer is a mistake (and timers overflow past ~24.8 days). */
const MAX_TIMEOUT_SECONDS = 86_400;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// NUL cannot be passed to a process; other control characters are refused as everywhere else.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

export interface CheckerInput {
  command: string;
  timeout_seconds?: number;
  working_dir?: string | null;
  env?: Record<string, string>;
  pass_context?: boolean;
}

function invalid(field: string, value: unknown, rule: string): JitError {
  return new JitError('INVALID_ARGUMENT', `Invalid ${field} ${preview(value)}: ${rule}.`, { details: { field } });
}

export function checkStage(value: unknown): GateStage {
  if (!(GATE_STAGES as readonly unknown[]).includes(value)) throw invalid('stage', value, `use one of ${GATE_STAGES.join(', ')}`);
  return value as GateStage;
}

export function checkMode(value: unknown): GateMode {
  if (!(GATE_MODES as readonly unknown[]).includes(value)) throw invalid('mode', value, `use one of ${GATE_MODES.join(', ')}`);
  return value as GateMode;
}

export function checkTimeoutSeconds(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMEOUT_SECONDS) {
    throw invalid('timeout', value, `give seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS}`);
  }
  return value;
}

export function checkChecker(input: unknown): GateChecker {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('checker', input, 'expected an object with a command');
  const { command, timeout_seconds, working_dir, env, pass_context, ...rest } = input as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw invalid('checker', unknown[0], 'unknown field (known: command, timeout_seconds, working_dir, env, pass_context)');
  if (typeof command !== 'string' || command.trim() === '' || CONTROL.test(command) || command.length > 10_000) {
    throw invalid('checker command', command, 'a command is 1-10000 characters without control characters (a newline is allowed)');
  }
  const dir = working_dir ?? null;
  if (dir !== null && (typeof dir !== 'string' || dir.trim() === '' || CONTROL.test(dir) || dir.includes('\n'))) {
    throw invalid('working directory', dir, 'a folder path on one line');
  }
  const variables: Record<string, string> = {};
  if (env !== undefined && env !== null) {
    if (typeof env !== 'object' || Array.isArray(env)) throw invalid('env', env, 'expected NAME=value pairs');
    for (const [name, value] of Object.entries(env as Record<string, unknown>)) {
      if (!ENV_NAME.test(name)) throw invalid('env name', name, 'use letters, digits and _, not starting with a digit');
      if (name.startsWith('JIT_')) throw invalid('env name', name, 'JIT_ names are set by jit itself');
      if (typeof value !== 'string' || value.includes('\u0000')) throw invalid(`env value of ${name}`, value, 'a string without NUL');
      variables[name] = value;
    }
  }
  return {
    type: 'exec',
    command,
    timeout_seconds: timeout_seconds === undefined ? DEFAULT_TIMEOUT_SECONDS : checkTimeoutSeconds(timeout_seconds),
    working_dir: dir,
    env: Object.fromEntries(Object.entries(variables).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    pass_context: pass_context === undefined ? false : checkBoolean('pass_context', pass_context),
  };
}

/** A definition with the defaults filled in: what jit acts on. */
export interface EffectiveGate {
  key: string;
  stage: GateStage;
  mode: GateMode;
  checker: GateChecker | null;
}

export function effectiveGate(def: GateDefinition): EffectiveGate {
  const raw = def.checker ?? null;
  return {
    key: def.key,
    stage: def.stage ?? 'postcheck',
    mode: def.mode ?? (def.auto ? 'auto' : 'manual'),
    checker:
      raw === null
        ? null
        : {
            type: 'exec',
            command: raw.command,
            timeout_seconds: raw.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS,
            working_dir: raw.working_dir ?? null,
            env: raw.env ?? {},
            pass_context: raw.pass_context ?? false,
          },
  };
}

/** Whether jit runs this gate's checker by itself (check-all, done, claim-next's advice). */
export function isAutoCheck(gate: EffectiveGate): boolean {
  return gate.mode === 'auto' && gate.checker !== null;
}

/** The trust key of what would run: `sha256:<hex>` of the exact command, env, folder, timeout, stage and pass_context. */
export function definitionHash(gate: EffectiveGate): string {
  const checker = gate.checker;
  if (checker === null) throw new JitError('INTERNAL', `Gate ${gate.key} has no checker to hash.`);
  const env = Object.entries(checker.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([checker.command, env, checker.working_dir, checker.timeout_seconds, gate.stage, checker.pass_context]);
  // Loaded here: the tracker imports this module on every start-up, and node:crypto costs ~2 ms of it (see ids.ts).
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
}

/** The issue's prechecks that have not passed (a gate gone from the registry is no precheck). */
export function pendingPrechecks(issue: Pick<Issue, 'gates_required' | 'gates_status'>, registry: ReadonlyMap<string, GateDefinition>): string[] {
  return issue.gates_required.filter((key) => {
    const def = registry.get(key);
    return def !== undefined && (def.stage ?? 'postcheck') === 'precheck' && issue.gates_status[key]?.status !== 'passed';
  });
}

/** GATES_PENDING: work on the issue cannot start before its prechecks pass. */
export function prechecksPending(issue: Pick<Issue, 'id' | 'state'>, keys: readonly string[]): JitError {
  const id = issue.id.slice(0, 8);
  return new JitError('GATES_PENDING', `Issue ${id} cannot start: its precheck${keys.length === 1 ? '' : 's'} ${keys.join(', ')} ${keys.length === 1 ? 'has' : 'have'} not passed.`, {
    suggestions: [bare(command('gate.check', { id })), ...keys.slice(0, 3).map((key) => bare(command('gate.pass', { id, key })))],
    details: { id: issue.id, state: issue.state, prechecks: [...keys] },
  });
}

/**
 * A definition from registry add's input, checked. Gates without stage, mode
 * or checker are written exactly as before these fields existed; with any of
 * them, all three are written (the original jit's shape). `auto` follows the
 * mode, for older readers.
 */
export function gateDefinition(def: GateDefinitionInput): GateDefinition {
  const key = checkGateKey(def.key);
  const title = checkTitle(def.title);
  const description = def.description === undefined ? '' : checkDescription(def.description);
  const auto = def.auto === undefined ? undefined : checkBoolean('auto', def.auto);
  const stage = def.stage === undefined ? undefined : checkStage(def.stage);
  const mode = def.mode === undefined ? undefined : checkMode(def.mode);
  const checker = def.checker === undefined || def.checker === null ? null : checkChecker(def.checker);
  if (stage === undefined && mode === undefined && checker === null) return { key, title, description, auto: auto ?? false };
  const effectiveMode = mode ?? (checker !== null || auto === true ? 'auto' : 'manual');
  return { key, title, description, auto: effectiveMode === 'auto', stage: stage ?? 'postcheck', mode: effectiveMode, checker };
}
