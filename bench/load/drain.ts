import { sleep } from './connect-all.js';

/**
 * Waits after the senders stop until `done()` holds, or until `progress()` has not moved
 * for a second (a system that dropped messages never drains), or `maxMs` passed.
 */
export async function drain(done: () => boolean, progress: () => number, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  let last = progress();
  let stillSince = performance.now();
  while (!done() && performance.now() < deadline) {
    await sleep(50);
    const now = progress();
    if (now !== last) {
      last = now;
      stillSince = performance.now();
    } else if (performance.now() - stillSince > 1000) {
      return;
    }
  }
}
