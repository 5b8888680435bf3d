import { RateLimiter } from './rate-limit.js';

export interface BudgetLimits {
  messagesPerSec: number;
  burst: number;
  refusalsPerSec: number;
  refusalBurst: number;
  deadLettersPerSec: number;
}

/** What one device may cost the gateway, shared by all its connections under `multi`. */
export interface DeviceBudget {
  /** Every frame the device sends takes one, refused or not. */
  frames: RateLimiter;
  /** Every refused frame takes one more; an empty bucket closes the device (flooding). */
  refusals: RateLimiter;
  /** A refused frame is dead-lettered (and logged) only while this has tokens. */
  deadLetters: RateLimiter;
}

/**
 * Budgets per device id, kept past the device's last connection until they have
 * refilled: a device that reconnects does not get a fresh budget by doing so.
 * Only authenticated devices get one, so the map is bounded by the registry.
 */
export class DeviceBudgets {
  readonly #byDevice = new Map<string, DeviceBudget>();

  constructor(private readonly limits: BudgetLimits) {}

  of(device: string): DeviceBudget {
    let budget = this.#byDevice.get(device);
    if (!budget) {
      const { messagesPerSec, burst, refusalsPerSec, refusalBurst, deadLettersPerSec } = this.limits;
      budget = {
        frames: new RateLimiter(messagesPerSec, burst),
        refusals: new RateLimiter(refusalsPerSec, refusalBurst),
        deadLetters: new RateLimiter(deadLettersPerSec, Math.max(1, Math.ceil(2 * deadLettersPerSec))),
      };
      this.#byDevice.set(device, budget);
    }
    return budget;
  }

  /** Forgets the budgets of devices without a connection that are full again. */
  prune(isConnected: (device: string) => boolean): void {
    for (const [device, budget] of this.#byDevice) {
      if (!isConnected(device) && budget.frames.isFull && budget.refusals.isFull && budget.deadLetters.isFull) this.#byDevice.delete(device);
    }
  }
}
