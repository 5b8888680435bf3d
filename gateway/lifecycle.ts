import type { Logger } from './log.js';

// A step that waits on a peer that is gone (Redis down: a client's QUIT is never
// answered) must not keep the process from stopping.
const STEP_TIMEOUT_MS = 3000;

/**
 * What a start has opened, closed newest first: on shutdown, and when a later step
 * of the start throws (so a port in use leaves no store, worker or timer behind).
 * A closer that fails, or does not finish within STEP_TIMEOUT_MS, is logged and the
 * others still run.
 */
export class Closers {
  readonly #stack: Array<() => unknown> = [];

  constructor(private readonly log: Logger) {}

  add(close: () => unknown): void {
    this.#stack.push(close);
  }

  async closeAll(): Promise<void> {
    for (let close = this.#stack.pop(); close; close = this.#stack.pop()) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STEP_TIMEOUT_MS)));
      try {
        if ((await Promise.race([close(), late])) === 'late') {
          this.log.error('close step did not finish; going on', { code: 'internal_error', step: close.name || String(this.#stack.length), timeoutMs: STEP_TIMEOUT_MS });
        }
      } catch (err) {
        this.log.error('close failed', { code: 'internal_error', error: (err as Error).stack });
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
