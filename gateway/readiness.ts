import type { Logger } from './log.js';

export type ReadyState = 'starting' | 'ready' | 'draining';

/**
 * GET /readyz: ready once every listener is up and the store answers; not ready
 * while starting and from the moment a stop begins, so a load balancer stops
 * sending devices before their sockets are closed.
 */
export class Readiness {
  #state: ReadyState = 'starting';

  constructor(
    /** Throws when the store does not answer. */
    private readonly pingStore: () => Promise<void> | void,
    private readonly log: Logger,
  ) {}

  ready(): void {
    if (this.#state === 'starting') this.#state = 'ready';
  }

  drain(): void {
    this.#state = 'draining';
  }

  async check(): Promise<{ ready: boolean; state: ReadyState | 'store_unavailable' }> {
    if (this.#state !== 'ready') return { ready: false, state: this.#state };
    try {
      await this.pingStore();
      return { ready: true, state: 'ready' };
    } catch (err) {
      this.log.warn('readiness: the store does not answer', { code: 'store_unavailable', error: (err as Error).message });
      return { ready: false, state: 'store_unavailable' };
    }
  }
}
