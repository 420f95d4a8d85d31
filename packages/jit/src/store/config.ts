/**
 * `.jit/config.toml`, the store's configuration in the original jit's format
 * (docs: the `.jit` format, config.toml). Read here, interpreted later by
 * the features that use it (issue types and their hierarchy, validation
 * strictness). The TOML parser (smol-toml) is loaded on first use: only a
 * command that needs the configuration pays for it.
 */
import path from 'node:path';
// Its typings are ESM-only; the runtime require() gets its CommonJS build.
import type * as SmolToml from 'smol-toml' with { 'resolution-mode': 'import' };
import { JitError } from './errors.js';
import { readTextIfExists } from './files.js';
import { command, hint } from './suggestions.js';

export const CONFIG_FILE = 'config.toml';

export type Strictness = 'strict' | 'loose' | 'permissive';
export const STRICTNESS_LEVELS: readonly Strictness[] = ['strict', 'loose', 'permissive'];

export interface TypeHierarchy {
  /** Type name -> level (1 = the top, e.g. milestone). */
  types: Record<string, number>;
  /** Types that are containers (epics, milestones), not work to claim; absent when the file does not say (the defaults hold). */
  strategic_types?: string[];
  /** Type name -> the label namespace that says membership (`epic` -> `epic:<name>`). */
  label_associations: Record<string, string>;
}

export interface StoreConfig {
  /** The file read, whether or not it exists. */
  path: string;
  exists: boolean;
  /** Every table and key as parsed, those we do not interpret included. */
  data: Record<string, unknown>;
  /** `[type_hierarchy]`, when the file has one. */
  type_hierarchy?: TypeHierarchy;
  /** `[validation]`: every key as parsed; `strictness` checked. */
  validation?: { strictness?: Strictness; [key: string]: unknown };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function invalid(filePath: string, what: string): JitError {
  return new JitError('CORRUPT_FILE', `Corrupt file ${filePath}: ${what}.`, {
    suggestions: [hint`Fix the value in ${filePath}, or restore the file from version control; ${command('validate')} lists every other problem.`],
    details: { path: filePath },
  });
}

/** TOML text as a plain object; CORRUPT_FILE naming the line and column of a syntax error. */
export function parseToml(text: string, filePath: string): Record<string, unknown> {
  const { parse, TomlError } = require('smol-toml') as typeof SmolToml;
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const reason = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
    throw new JitError('CORRUPT_FILE', `Corrupt file ${filePath}: not valid TOML at line ${error.line}, column ${error.column} (${reason}).`, {
      suggestions: [`Fix ${filePath} at line ${error.line}, or restore it from version control.`],
      details: { path: filePath, line: error.line, column: error.column },
      cause: error,
    });
  }
}

function typeHierarchy(table: Record<string, unknown>, filePath: string): TypeHierarchy {
  const types: Record<string, number> = {};
  const given = table['types'] ?? {};
  if (!isRecord(given)) throw invalid(filePath, '[type_hierarchy] types is not a table of type = level');
  for (const [name, level] of Object.entries(given)) {
    if (typeof level !== 'number' || !Number.isInteger(level) || level < 1) throw invalid(filePath, `[type_hierarchy] types.${name} is not a level (an integer from 1)`);
    types[name] = level;
  }
  const strategic = table['strategic_types'];
  if (strategic !== undefined && (!Array.isArray(strategic) || strategic.some((type) => typeof type !== 'string'))) throw invalid(filePath, '[type_hierarchy] strategic_types is not a list of type names');
  const associations = table['label_associations'] ?? {};
  if (!isRecord(associations) || Object.values(associations).some((ns) => typeof ns !== 'string')) {
    throw invalid(filePath, '[type_hierarchy.label_associations] is not a table of type = "namespace"');
  }
  // Names the rest of the table uses must be types (when it lists its own types; else the default types hold).
  if (Object.keys(types).length > 0) {
    for (const name of [...((strategic ?? []) as string[]), ...Object.keys(associations)]) {
      if (!(name in types)) throw invalid(filePath, `[type_hierarchy] names type ${JSON.stringify(name)}, which types does not list (known: ${Object.keys(types).join(', ')})`);
    }
  }
  const hierarchy: TypeHierarchy = { types, label_associations: associations as Record<string, string> };
  if (strategic !== undefined) hierarchy.strategic_types = strategic as string[];
  return hierarchy;
}

/** The configuration in `text` (the contents of `filePath`). */
export function parseStoreConfig(text: string, filePath: string): StoreConfig {
  const data = parseToml(text, filePath);
  const config: StoreConfig = { path: filePath, exists: true, data };
  const hierarchy = data['type_hierarchy'];
  if (hierarchy !== undefined) {
    if (!isRecord(hierarchy)) throw invalid(filePath, 'type_hierarchy is not a table');
    config.type_hierarchy = typeHierarchy(hierarchy, filePath);
  }
  const validation = data['validation'];
  if (validation !== undefined) {
    if (!isRecord(validation)) throw invalid(filePath, 'validation is not a table');
    const strictness = validation['strictness'];
    if (strictness !== undefined && !STRICTNESS_LEVELS.includes(strictness as Strictness)) {
      throw invalid(filePath, `[validation] strictness is ${JSON.stringify(strictness)}, not one of ${STRICTNESS_LEVELS.join(', ')}`);
    }
    config.validation = validation as StoreConfig['validation'];
  }
  return config;
}

/** `.jit/config.toml` of the store at `jitDir`; an empty configuration when the file does not exist. */
export function readStoreConfig(jitDir: string): StoreConfig {
  const filePath = path.join(path.resolve(jitDir), CONFIG_FILE);
  const text = readTextIfExists(filePath);
  return text === null ? { path: filePath, exists: false, data: {} } : parseStoreConfig(text, filePath);
}
