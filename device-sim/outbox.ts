interface Pending {
  frame: string;
  /** performance.now() of the latest write, for ack latency. */
  sentAt: number;
  sends: number;
  inFlight: boolean;
}

/** What the device may do next with its outbox. */
export type NextWrite =
  /** Write this frame now; `resend` when an earlier write of it went unacked. */
  | { kind: 'write'; frame: string; resend: boolean }
  /** Out of pace with frames still to go: the next token is due in `ms`. */
  | { kind: 'wait'; ms: number }
  /** The send window is full, or everything is already in flight. */
  | { kind: 'idle' };

// Telemetry written but not acked, per device. Beyond this the device waits
// for acks, like firmware with a small send window; the rest stays buffered.
export const SEND_WINDOW = 32;
// A backlog (readings buffered while offline) goes out at a bounded pace, like
// firmware draining its flash: at least this many frames/s, or twice the
// reading rate when that is higher. Unpaced, 5 minutes of buffered readings
// would hit the gateway's per-device rate limit (limits.messagesPerSec, default 100).
export const MIN_CATCH_UP_PER_SEC = 50;
const SEND_BURST = SEND_WINDOW;
// Readings kept while offline; the oldest go first (counted as dropped).
export const MAX_BUFFERED = 1000;

/**
 * A device's at-least-once telemetry buffer: every reading stays until acked
 * and is written again, with the same id, after a reconnect. It decides which
 * frames may be written now (send window, pace, oldest first); the device does
 * the writing and owns the socket, the stats and the timers.
 */
export class Outbox {
  /** Insertion order is reading order, so iteration is oldest first. */
  readonly #pending = new Map<string, Pending>();
  #inFlight = 0;
  #readingIntervalMs: number;
  /** Token bucket pacing the writes; refilled at #sendPerSec. */
  #sendTokens = SEND_BURST;
  #tokensAt: number;

  /** `now` is on the performance.now() clock, as for every time this class takes. */
  constructor(readingIntervalMs: number, now = performance.now()) {
    this.#readingIntervalMs = readingIntervalMs;
    this.#tokensAt = now;
  }

  /** Frames per second this device may write: enough to catch up on a backlog. */
  get #sendPerSec(): number {
    return Math.max(MIN_CATCH_UP_PER_SEC, 2000 / this.#readingIntervalMs);
  }

  /** Readings not yet acked (buffered or in flight). */
  get size(): number {
    return this.#pending.size;
  }

  /** Readings written on this connection and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The catch-up pace follows the reading rate (set_interval changes it). */
  setReadingInterval(ms: number): void {
    this.#readingIntervalMs = ms;
  }

  /** Buffers a new reading; returns true when the oldest one was dropped to make room. */
  add(id: string, frame: string): boolean {
    this.#pending.set(id, { frame, sentAt: 0, sends: 0, inFlight: false });
    if (this.#pending.size <= MAX_BUFFERED) return false;
    this.#forget(this.#pending.keys().next().value as string);
    return true;
  }

  /**
   * The oldest unsent frame, if the window and the pace allow a write at `now`;
   * a returned frame counts as written (in flight) from here on.
   */
  takeNext(now: number): NextWrite {
    this.#sendTokens = Math.min(SEND_BURST, this.#sendTokens + ((now - this.#tokensAt) / 1000) * this.#sendPerSec);
    this.#tokensAt = now;
    if (this.#inFlight >= SEND_WINDOW) return { kind: 'idle' };
    for (const pending of this.#pending.values()) {
      if (pending.inFlight) continue;
      if (this.#sendTokens < 1) return { kind: 'wait', ms: Math.ceil(1000 / this.#sendPerSec) };
      this.#sendTokens--;
      pending.inFlight = true;
      pending.sentAt = now;
      this.#inFlight++;
      return { kind: 'write', frame: pending.frame, resend: pending.sends++ > 0 };
    }
    return { kind: 'idle' };
  }

  /**
   * The gateway took reading `id`: forget it. Returns the ack latency in ms
   * (from its latest write), or undefined for an id not pending, which is a
   * state ack or a duplicate ack of a resent reading.
   */
  ack(id: string, now: number): number | undefined {
    const pending = this.#forget(id);
    return pending && now - pending.sentAt;
  }

  /** The gateway refused reading `id` for good: forget it. False if it was not pending. */
  reject(id: string): boolean {
    return this.#forget(id) !== undefined;
  }

  /** The gateway did not take reading `id` this time: keep it, unsent, for a later write. */
  requeue(id: string): boolean {
    const pending = this.#pending.get(id);
    if (!pending) return false;
    if (pending.inFlight) {
      pending.inFlight = false;
      this.#inFlight--;
    }
    return true;
  }

  /** The connection closed. */
  requeueAll(): void {
    // Whatever was in flight may or may not have arrived: resend it all (same ids).
    for (const pending of this.#pending.values()) pending.inFlight = false;
    this.#inFlight = 0;
  }

  /** Empties the buffer; returns how many readings it held. */
  clear(): number {
    const count = this.#pending.size;
    this.#pending.clear();
    this.#inFlight = 0;
    return count;
  }

  #forget(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    if (pending.inFlight) this.#inFlight--;
    return pending;
  }
}
