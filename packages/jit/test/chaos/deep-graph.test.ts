// validate over a real 100,000-issue dependency chain (every issue file on
// disk): its cycle search and dependency checks walk the whole chain, which
// overflowed the call stack of the recursive search. Heavy (100,000 files),
// hence here and not in the normal suite (test/cli/deep-graph.test.ts covers
// the graph commands).
import { expect, it } from 'vitest';
import { writeChainStore } from '../cli/helpers.js';
import { jit, makeProject, report } from './support.js';

const CHAIN = 100_000;

it(`validate on a ${CHAIN}-issue dependency chain`, () => {
  const { project, jitDir } = makeProject('deep-graph');
  const ids = writeChainStore(jitDir, CHAIN);
  const began = performance.now();
  const validate = jit(project, ['validate'], {}, undefined, 300_000);
  const seconds = (performance.now() - began) / 1000;
  expect(validate.status, validate.stderr).toBe(0);
  expect(validate.json).toMatchObject({ ok: true, problems: [] });
  // Finishing the root promotes the next link, and the store stays consistent.
  expect(jit(project, ['issue', 'update', ids[0]!, '--state', 'done']).status).toBe(0);
  expect(jit(project, ['issue', 'show', ids[1]!]).json.state).toBe('ready');
  report('deep graph', `${CHAIN}-issue chain`, `validate ok in ${seconds.toFixed(1)} s`);
});
