import type { Logger } from './log.js';

/**
 * What a start has opened, closed newest first: on shutdown, and when a later step
 * of the start throws (so a port in use leaves no store, worker or timer behind).
 * A closer that fails is logged and the others still run.
 */
export class Closers {
  readonly #stack: Array<() => unknown> = [];

  constructor(private readonly log: Logger) {}

  add(close: () => unknown): void {
    this.#stack.push(close);
  }

  async closeAll(): Promise<void> {
    for (let close = this.#stack.pop(); close; close = this.#stack.pop()) {
      try {
        await close();
      } catch (err) {
        this.log.error('close failed', { code: 'internal_error', error: (err as Error).stack });
      }
    }
  }
}
