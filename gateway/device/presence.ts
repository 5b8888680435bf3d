import type { Aedes } from 'aedes';
import { publishJson } from '../broker/publish.js';
import type { Logger } from '../log.js';
import type { Topics } from '../topics.js';

export interface Presence {
  online: boolean;
  since: number;
  connections: number;
}

/**
 * Publishes retained presence, one device's updates strictly in order: the
 * retained message is the device's last word, so an older update must never
 * land after a newer one.
 */
export class PresencePublisher {
  readonly #pending = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(
    private readonly aedes: Aedes,
    private readonly topics: Topics,
    private readonly log: Logger,
  ) {}

  publish(device: string, presence: Presence): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const previous = this.#pending.get(device) ?? Promise.resolve();
    const next = previous
      .then(() => publishJson(this.aedes, this.topics.presence(device), presence, true))
      .catch((err: Error) => this.log.error('presence publish failed', { code: 'internal_error', device, error: err.message }))
      .finally(() => {
        if (this.#pending.get(device) === next) this.#pending.delete(device);
      });
    this.#pending.set(device, next);
    return next;
  }

  /**
   * For shutdown: resolves once every update handed over so far is published,
   * and ignores later ones (the offline presence already sent is the last word).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#pending.values());
  }
}
