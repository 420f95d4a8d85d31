// The type hierarchy's rules and config.toml's reading of it (issue 16), without a store.
import { describe, expect, it } from 'vitest';
import { parseStoreConfig } from './config.js';
import { JitError } from './errors.js';
import { DEFAULT_HIERARCHY, HIERARCHY_TEMPLATES, directionViolation, enforce, hierarchyOf, hierarchyTemplateText, labelViolations, typeLabel } from './hierarchy.js';

const codeOf = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    if (error instanceof JitError) return error.code;
    throw error;
  }
  throw new Error('expected a JitError');
};

describe('type hierarchy', () => {
  it('defaults without config.toml: the original five types, epics and milestones strategic, loose', () => {
    const h = hierarchyOf({});
    expect(h.types).toEqual(DEFAULT_HIERARCHY.types);
    expect(h.strategicLabels).toEqual(['type:milestone', 'type:epic']);
    expect(h.strictness).toBe('loose');
  });

  it('every template is a config.toml that parses back to itself', () => {
    for (const [name, template] of Object.entries(HIERARCHY_TEMPLATES)) {
      const config = parseStoreConfig(hierarchyTemplateText(name), `${name}.toml`);
      expect(config.type_hierarchy, name).toEqual(template);
      expect(config.validation?.strictness).toBe('loose');
    }
    expect(codeOf(() => hierarchyTemplateText('toString'))).toBe('INVALID_ARGUMENT');
  });

  it('config.toml naming a type its types table lacks is CORRUPT_FILE saying which', () => {
    expect(() => parseStoreConfig('[type_hierarchy]\ntypes = { epic = 1 }\nstrategic_types = ["theme"]\n', 'c.toml')).toThrow(/theme/);
    expect(() => parseStoreConfig('[type_hierarchy]\ntypes = { epic = 1 }\n[type_hierarchy.label_associations]\nstory = "story"\n', 'c.toml')).toThrow(/story/);
    expect(codeOf(() => parseStoreConfig('[validation]\nstrictness = 3\n', 'c.toml'))).toBe('CORRUPT_FILE');
  });

  it('rules: unknown and several types; a lower level waiting for a higher one; same level or upwards is fine', () => {
    const h = hierarchyOf({ validation: { strictness: 'loose' } });
    const issue = (id: string, ...labels: string[]) => ({ id, labels });
    expect(labelViolations(issue('a', 'type:chore'), h).map((v) => v.rule)).toEqual(['unknown_type']);
    // Without a config.toml, the types a store already uses are all fine.
    expect(labelViolations(issue('a', 'type:chore'), hierarchyOf({}))).toEqual([]);
    expect(labelViolations(issue('a', 'type:task', 'type:bug'), h).map((v) => v.rule)).toEqual(['several_types']);
    expect(labelViolations(issue('a', 'type:task', 'area:x'), h)).toEqual([]);
    expect(directionViolation(issue('t', 'type:task'), issue('e', 'type:epic'), h)?.rule).toBe('wrong_direction');
    expect(directionViolation(issue('e', 'type:epic'), issue('t', 'type:task'), h)).toBeNull();
    expect(directionViolation(issue('t', 'type:task'), issue('b', 'type:bug'), h)).toBeNull();
    expect(directionViolation(issue('t'), issue('e', 'type:epic'), h)).toBeNull();
  });

  it('enforce by strictness: strict throws (INVALID_ARGUMENT for an unknown type), loose returns, permissive drops', () => {
    const wrong = directionViolation({ id: 't', labels: ['type:task'] }, { id: 'e', labels: ['type:epic'] }, hierarchyOf({}))!;
    const unknown = labelViolations({ id: 'a', labels: ['type:chore'] }, hierarchyOf({ validation: { strictness: 'loose' } }));
    expect(enforce([wrong], hierarchyOf({ validation: { strictness: 'loose' } }))).toEqual([wrong]);
    expect(enforce([wrong], hierarchyOf({ validation: { strictness: 'permissive' } }))).toEqual([]);
    expect(codeOf(() => enforce([wrong], hierarchyOf({ validation: { strictness: 'strict' } })))).toBe('HIERARCHY_VIOLATION');
    expect(codeOf(() => enforce(unknown, hierarchyOf({ validation: { strictness: 'strict' } })))).toBe('INVALID_ARGUMENT');
    expect(typeLabel(' Epic ', hierarchyOf({}))).toBe('type:epic');
    expect(codeOf(() => typeLabel('two words', hierarchyOf({})))).toBe('INVALID_ARGUMENT');
  });
});
