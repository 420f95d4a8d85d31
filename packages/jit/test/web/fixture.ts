/** The fixture store of the web tests, written through the store's own API (in-process, the sources). */
import path from 'node:path';
import { initJit, openTracker } from '../../src/store/index.js';

export const XSS_TITLE = '<img src=x onerror="document.title=\'pwned\'"> & <b>bold</b>';

export interface Fixture {
  ids: Record<'design' | 'build' | 'test' | 'docs' | 'xss' | 'dropped', string>;
  /** The edges stored ("from waits for to"). */
  edges: number;
  issues: number;
}

/**
 * Six issues in four states: design (done) <- build (in_progress, claimed) <- test (backlog, gate review) and
 * docs (ready, waits for design); an XSS title (ready); dropped (rejected).
 */
export async function writeFixture(projectDir: string): Promise<Fixture> {
  initJit(projectDir);
  const tracker = openTracker(path.join(projectDir, '.jit'));
  await tracker.addGateDefinition({ key: 'review', title: 'Human review' });
  const design = await tracker.createIssue({ title: 'Design the API', labels: ['epic:web', 'type:task'], priority: 'high' });
  const build = await tracker.createIssue({ title: 'Build the server', labels: ['epic:web', 'type:feature'], dependencies: [design.id] });
  const test = await tracker.createIssue({ title: 'Test in a browser', labels: ['epic:web', 'type:task'], dependencies: [build.id], gates: ['review'] });
  const docs = await tracker.createIssue({ title: 'Write the docs', labels: ['area:docs'], dependencies: [design.id], priority: 'low' });
  const xss = await tracker.createIssue({ title: XSS_TITLE, description: '<script>document.title="pwned"</script>', labels: ['type:bug'] });
  const dropped = await tracker.createIssue({ title: 'Dropped idea' });
  await tracker.updateIssue(design.id, { state: 'done' });
  await tracker.claim(build.id, 'agent:worker-1');
  await tracker.updateIssue(dropped.id, { state: 'rejected' });
  return {
    ids: { design: design.id, build: build.id, test: test.id, docs: docs.id, xss: xss.id, dropped: dropped.id },
    edges: 3,
    issues: 6,
  };
}
