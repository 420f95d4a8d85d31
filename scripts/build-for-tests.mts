// vitest globalSetup of both packages. In-process tests run the TypeScript
// sources; tests that start processes (the CLI, MCP, lock children) run the
// build (dist/, build/Release). Building first, incrementally, makes them the
// same code, so `npx vitest` never tests a stale build. Once per vitest run
// (the second project finds it done), and again before each watch-mode rerun.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const BUILD = fileURLToPath(new URL('./build.js', import.meta.url));
const DONE = 'JIT_TESTS_BUILT'; // set in the vitest process once the build is done

function build(): void {
  const result = spawnSync(process.execPath, [BUILD], { encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error(`node scripts/build.js failed (exit ${result.status}): the tests would run a stale build`);
  }
}

export default function setup(project: TestProject): void {
  if (!process.env[DONE]) {
    build();
    process.env[DONE] = '1';
  }
  project.onTestsRerun(() => build());
}
