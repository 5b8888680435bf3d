import { DeviceError } from './device-error.js';
import type { Desired } from './types.js';

/** The latest desired state from the gateway and the handlers that want it. */
export class DesiredState {
  readonly #handlers = new Set<(desired: Desired) => void>();
  #latest: Desired | undefined;

  constructor(private readonly onError: (error: DeviceError) => void) {}

  get latest(): Desired | undefined {
    return this.#latest;
  }

  /** Adds a handler, called at once (in a microtask) with the latest state already known. */
  add(handler: (desired: Desired) => void): () => void {
    this.#handlers.add(handler);
    const known = this.#latest;
    if (known) queueMicrotask(() => this.#deliver(handler, known));
    return () => this.#handlers.delete(handler);
  }

  /** A desired frame arrived. */
  update(frame: Desired): void {
    this.#latest = { version: frame.version, state: frame.state, delta: frame.delta };
    for (const handler of this.#handlers) this.#deliver(handler, this.#latest);
  }

  #deliver(handler: (desired: Desired) => void, desired: Desired): void {
    try {
      handler(desired);
    } catch (err) {
      this.onError(new DeviceError('desired_handler_failed', (err as Error).message ?? String(err)));
    }
  }
}
