// Every operation a suggestion can name, with sample arguments (all optional ones given), for the tests of both renderings.
import type { Command, Operation } from '../../src/store/suggestions.js';

/** Every operation with sample arguments, all optional ones given. */
export const SAMPLES: { [K in Operation]: Command & { op: K } } = {
  init: { op: 'init', args: {} },
  'issue.list': { op: 'issue.list', args: {} },
  'issue.show': { op: 'issue.show', args: { id: '1a2b3c4d' } },
  'issue.search': { op: 'issue.search', args: { query: 'timeout' } },
  'issue.update': { op: 'issue.update', args: { id: '1a2b3c4d', state: 'done', priority: 'high', title: 'T' } },
  'dep.remove': { op: 'dep.remove', args: { from: '1a2b3c4d', to: '5e6f7a8b' } },
  'gate.add': { op: 'gate.add', args: { id: '1a2b3c4d', key: 'tests' } },
  'gate.remove': { op: 'gate.remove', args: { id: '1a2b3c4d', key: 'tests' } },
  'gate.pass': { op: 'gate.pass', args: { id: '1a2b3c4d', key: 'tests' } },
  'gate.fail': { op: 'gate.fail', args: { id: '1a2b3c4d', key: 'tests' } },
  'gate.check': { op: 'gate.check', args: { id: '1a2b3c4d', key: 'tests' } },
  'gate.checkAll': { op: 'gate.checkAll', args: {} },
  'gate.trust': { op: 'gate.trust', args: { key: 'tests' } },
  'registry.list': { op: 'registry.list', args: {} },
  'registry.show': { op: 'registry.show', args: { key: 'tests' } },
  'registry.add': { op: 'registry.add', args: { key: 'tests', title: 'T' } },
  'registry.remove': { op: 'registry.remove', args: { key: 'tests', dropRequirements: true } },
  'query.ready': { op: 'query.ready', args: {} },
  'query.blocked': { op: 'query.blocked', args: {} },
  validate: { op: 'validate', args: { fix: true } },
  'debug.locks': { op: 'debug.locks', args: {} },
  migrate: { op: 'migrate', args: { from: '/work/project' } },
  'db.init': { op: 'db.init', args: {} },
  'db.migrate': { op: 'db.migrate', args: {} },
};
