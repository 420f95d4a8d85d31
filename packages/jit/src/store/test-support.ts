// Helpers the store's unit tests share (not built into dist/: tsconfig.build.json leaves it out).
import { JitError } from './errors.js';

/** The JitError code `promise` rejects with; 'resolved' when it does not reject. Any other error is rethrown. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JitError) return error.code;
    throw error;
  }
  return 'resolved';
}
