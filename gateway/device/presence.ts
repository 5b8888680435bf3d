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

  constructor(
    private readonly aedes: Aedes,
    private readonly topics: Topics,
    private readonly log: Logger,
  ) {}

  publish(device: string, presence: Presence): Promise<void> {
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

  /** Resolves when every update handed over so far has been published. */
  async flush(): Promise<void> {
    await Promise.all(this.#pending.values());
  }
}
