/**
 * Issue types and their hierarchy (issue 16), as the original jit has them:
 * a type is a `type:<name>` label; `.jit/config.toml` gives each type a
 * level (1 = the top), names the strategic types (containers such as epics
 * and milestones, never handed out as work), and sets how strictly the
 * rules below are enforced. Without the file, the defaults below hold.
 *
 * The rules (docs/tracker.md, "Types and hierarchy"):
 * - unknown_type: a `type:` label names a type the hierarchy does not list
 *   (only once config.toml lists types or sets a strictness: closedTypes);
 * - several_types: an issue carries more than one `type:` label;
 * - wrong_direction: an issue depends on an issue of a higher level (a task
 *   waiting for its epic). Containers wait for their parts, not the reverse.
 * strict refuses a change that breaks one (HIERARCHY_VIOLATION, or
 * INVALID_ARGUMENT for an unknown type), loose saves it and returns a
 * warning, permissive neither; `validate` reports every violation at any level.
 */
import { readStoreConfig, type StoreConfig, type Strictness, type TypeHierarchy } from './config.js';
import { JitError } from './errors.js';

export const TYPE_NAMESPACE = 'type';
const TYPE_PREFIX = `${TYPE_NAMESPACE}:`;

export const DEFAULT_HIERARCHY: Required<TypeHierarchy> = Object.freeze({
  types: { milestone: 1, epic: 2, story: 3, task: 4, bug: 4 },
  strategic_types: ['milestone', 'epic'],
  label_associations: { milestone: 'milestone', epic: 'epic' },
});
export const DEFAULT_STRICTNESS: Strictness = 'loose';

/** The configuration a rule needs, defaults filled in. */
export interface Hierarchy extends TypeHierarchy {
  strategic_types: string[];
  strictness: Strictness;
  /** `type:<name>` of each strategic type. */
  strategicLabels: string[];
  /**
   * Whether a type the hierarchy does not list is a violation: only once the
   * store's config.toml lists types or sets a strictness. A store without
   * one keeps whatever `type:` labels it already uses (type:design, type:code).
   */
  closedTypes: boolean;
}

export function hierarchyOf(config: Pick<StoreConfig, 'type_hierarchy' | 'validation'>): Hierarchy {
  const given = config.type_hierarchy;
  // A [type_hierarchy] with no types keeps the default types (e.g. a file that only sets strategic_types).
  const types = given && Object.keys(given.types).length > 0 ? given.types : DEFAULT_HIERARCHY.types;
  // strategic_types = [] is an answer (no containers); only a file without the key gets the default ones.
  const strategic = given?.strategic_types ?? DEFAULT_HIERARCHY.strategic_types.filter((t) => t in types);
  const associations = given && Object.keys(given.label_associations).length > 0 ? given.label_associations : DEFAULT_HIERARCHY.label_associations;
  return {
    types: { ...types },
    strategic_types: [...strategic],
    label_associations: { ...associations },
    strictness: config.validation?.strictness ?? DEFAULT_STRICTNESS,
    strategicLabels: strategic.map((t) => TYPE_PREFIX + t),
    closedTypes: (given !== undefined && Object.keys(given.types).length > 0) || config.validation?.strictness !== undefined,
  };
}

/** The hierarchy of the store at `jitDir` (config.toml read now: a change to it counts at once). */
export function readHierarchy(jitDir: string): Hierarchy {
  return hierarchyOf(readStoreConfig(jitDir));
}

/** The type names among `labels` (`type:epic` -> epic), in order. */
export function typesOf(labels: readonly string[]): string[] {
  return labels.filter((label) => label.startsWith(TYPE_PREFIX)).map((label) => label.slice(TYPE_PREFIX.length));
}

export function isStrategic(labels: readonly string[], hierarchy: Hierarchy): boolean {
  return labels.some((label) => hierarchy.strategicLabels.includes(label));
}

/** `--type T`: the label it stands for; under strict, an unknown type is refused with the known ones listed. */
export function typeLabel(type: unknown, hierarchy: Hierarchy): string {
  const given = typeof type === 'string' ? type.trim() : '';
  // A type config.toml lists keeps its spelling there (Epic): the label must match what the rules and queries look for.
  const listed = Object.keys(hierarchy.types).find((known) => known.toLowerCase() === given.toLowerCase());
  const name = listed ?? given.toLowerCase();
  if (listed === undefined && !/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) {
    throw new JitError('INVALID_ARGUMENT', `Invalid type ${JSON.stringify(type)}: use a type name, e.g. ${Object.keys(hierarchy.types).join(', ')}.`, {
      details: { field: 'type', choices: Object.keys(hierarchy.types) },
    });
  }
  return TYPE_PREFIX + name;
}

export type HierarchyRule = 'unknown_type' | 'several_types' | 'wrong_direction';

export interface HierarchyViolation {
  rule: HierarchyRule;
  message: string;
  issue_id: string;
  /** wrong_direction: the dependency whose level is above the issue's. */
  dependency?: string;
}

const short = (id: string): string => id.slice(0, 8);

/** The level of an issue's type; undefined when it has no (known) type. */
function levelOf(labels: readonly string[], hierarchy: Hierarchy): number | undefined {
  for (const type of typesOf(labels)) if (type in hierarchy.types) return hierarchy.types[type];
  return undefined;
}

/** The rules an issue's own labels break (unknown or several types). */
export function labelViolations(issue: { id: string; labels: readonly string[] }, hierarchy: Hierarchy): HierarchyViolation[] {
  const types = typesOf(issue.labels);
  const violations: HierarchyViolation[] = [];
  for (const type of types) {
    if (hierarchy.closedTypes && !(type in hierarchy.types)) {
      violations.push({ rule: 'unknown_type', issue_id: issue.id, message: `Issue ${short(issue.id)} has type ${type}, which the hierarchy does not list (known: ${Object.keys(hierarchy.types).join(', ')}).` });
    }
  }
  if (types.length > 1) violations.push({ rule: 'several_types', issue_id: issue.id, message: `Issue ${short(issue.id)} has several types (${types.join(', ')}): keep one.` });
  return violations;
}

/** wrong_direction: `issue` depends on `dependency`, whose type is of a higher level (a lower number). */
export function directionViolation(
  issue: { id: string; labels: readonly string[] },
  dependency: { id: string; labels: readonly string[] },
  hierarchy: Hierarchy,
): HierarchyViolation | null {
  const from = levelOf(issue.labels, hierarchy);
  const to = levelOf(dependency.labels, hierarchy);
  if (from === undefined || to === undefined || to >= from) return null;
  const [fromType, toType] = [typesOf(issue.labels)[0], typesOf(dependency.labels)[0]];
  return {
    rule: 'wrong_direction',
    issue_id: issue.id,
    dependency: dependency.id,
    message:
      `Issue ${short(issue.id)} (${fromType}, level ${from}) would wait for ${short(dependency.id)} (${toType}, level ${to}): ` +
      `a container waits for its parts, not the reverse. Make the ${toType} depend on the ${fromType} instead.`,
  };
}

/**
 * What a change does about the violations it makes, by strictness: strict
 * throws (INVALID_ARGUMENT for an unknown type, listing the known ones;
 * HIERARCHY_VIOLATION otherwise), loose returns them as warnings,
 * permissive returns none.
 */
export function enforce(violations: readonly HierarchyViolation[], hierarchy: Hierarchy): HierarchyViolation[] {
  if (violations.length === 0 || hierarchy.strictness === 'permissive') return [];
  if (hierarchy.strictness === 'loose') return [...violations];
  const first = violations[0]!;
  const known = Object.keys(hierarchy.types);
  if (first.rule === 'unknown_type') {
    throw new JitError('INVALID_ARGUMENT', `${first.message} The store's validation is strict.`, {
      suggestions: [`Use one of: ${known.join(', ')}; or add the type to [type_hierarchy] types in .jit/config.toml.`],
      details: { field: 'type', choices: known, violations },
    });
  }
  throw new JitError('HIERARCHY_VIOLATION', `Refused: ${first.message}`, {
    suggestions: ['Change the dependency or the types; or set [validation] strictness = "loose" in .jit/config.toml to allow it with a warning.'],
    details: { violations },
  });
}

/** Starter hierarchies `jit init --hierarchy-template NAME` writes into config.toml. */
export const HIERARCHY_TEMPLATES: Readonly<Record<string, Required<TypeHierarchy>>> = {
  default: DEFAULT_HIERARCHY,
  agile: { types: { epic: 1, story: 2, task: 3, bug: 3, subtask: 4 }, strategic_types: ['epic'], label_associations: { epic: 'epic' } },
  minimal: { types: { epic: 1, task: 2, bug: 2 }, strategic_types: ['epic'], label_associations: { epic: 'epic' } },
};

/** config.toml for a template (the original jit's format, which it reads too); INVALID_ARGUMENT for an unknown name. */
export function hierarchyTemplateText(name: string): string {
  const template = Object.hasOwn(HIERARCHY_TEMPLATES, name) ? HIERARCHY_TEMPLATES[name] : undefined;
  if (!template) {
    throw new JitError('INVALID_ARGUMENT', `Unknown hierarchy template ${JSON.stringify(name)}.`, {
      suggestions: [`Use one of: ${Object.keys(HIERARCHY_TEMPLATES).join(', ')}.`],
      details: { field: 'hierarchy-template', choices: Object.keys(HIERARCHY_TEMPLATES) },
    });
  }
  const table = (record: Record<string, unknown>): string => `{ ${Object.entries(record).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')} }`;
  return [
    `# jit store configuration (hierarchy template "${name}"); see docs/format.md, config.toml.`,
    '[version]',
    'schema = 2',
    '',
    '[type_hierarchy]',
    '# type = level: 1 is the top. An issue has a type through its label type:<name>.',
    `types = ${table(template.types)}`,
    '# Containers: never handed out by claim-next unless asked for by type, not counted as ready work.',
    `strategic_types = ${JSON.stringify(template.strategic_types)}`,
    '',
    '[type_hierarchy.label_associations]',
    '# type = the label namespace that says membership (epic:<name>).',
    ...Object.entries(template.label_associations).map(([type, namespace]) => `${type} = ${JSON.stringify(namespace)}`),
    '',
    '[validation]',
    '# strict: refuse a change that breaks a hierarchy rule; loose: save it with a warning; permissive: no checks.',
    `strictness = "${DEFAULT_STRICTNESS}"`,
    '',
  ].join('\n');
}
