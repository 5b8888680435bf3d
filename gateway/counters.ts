import type { ErrorCode } from './errors.js';

/** What the gateway refused or dropped without a log line each time; shown on /healthz. */
export type CountedEvent = ErrorCode | 'deadletters_suppressed';

export class Counters {
  readonly #values = new Map<CountedEvent, number>();

  count(event: CountedEvent, by = 1): void {
    this.#values.set(event, (this.#values.get(event) ?? 0) + by);
  }

  get(event: CountedEvent): number {
    return this.#values.get(event) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#values);
  }
}
