import type { Aedes } from 'aedes';
import type { Logger } from '../log.js';
import { publishJson } from './publish.js';

/**
 * Publishes the gateway's own event streams (presence, command status) so that
 * events under one key (a device) reach the broker strictly in the order they
 * happened: a retained presence must not be overwritten by an older one, and a
 * command's `delivered` must not overtake its `accepted`.
 */
export class OrderedPublisher {
  readonly #pending = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(
    private readonly aedes: Aedes,
    private readonly log: Logger,
  ) {}

  publish(key: string, topic: string, payload: unknown, retain = false): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const previous = this.#pending.get(key) ?? Promise.resolve();
    const next = previous
      .then(() => publishJson(this.aedes, topic, payload, retain))
      .catch((err: Error) => this.log.error('gateway publish failed', { code: 'internal_error', topic, error: err.message }))
      .finally(() => {
        if (this.#pending.get(key) === next) this.#pending.delete(key);
      });
    this.#pending.set(key, next);
    return next;
  }

  /**
   * For shutdown: resolves once every event handed over so far is published,
   * and ignores later ones (the offline presence already sent is the last word).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#pending.values());
  }
}
