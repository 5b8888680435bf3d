import { sleep } from './connect-all.js';
import type { DrainOutcome } from './task.js';

/**
 * Waits after the senders stop until `done()` holds, or until `progress()` has not moved
 * for a second (a system that dropped messages never drains), or `maxMs` passed; says which.
 */
export async function drain(done: () => boolean, progress: () => number, maxMs: number): Promise<DrainOutcome> {
  const deadline = performance.now() + maxMs;
  let last = progress();
  let stillSince = performance.now();
  while (!done()) {
    if (performance.now() >= deadline) return 'deadline';
    await sleep(50);
    const now = progress();
    if (now !== last) {
      last = now;
      stillSince = performance.now();
    } else if (performance.now() - stillSince > 1000) {
      return 'stalled';
    }
  }
  return 'done';
}
