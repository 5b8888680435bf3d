interface Pending<T> {
  frame: string;
  /** What the caller keeps with the frame (the SDK: the promise to settle). */
  value: T;
  /** performance.now() of the latest write, for ack latency. */
  sentAt: number;
  sends: number;
  inFlight: boolean;
}

/** What the device may do next with its outbox. */
export type NextWrite<T> =
  /** Write this frame now; `resend` when an earlier write of it went unacked. */
  | { kind: 'write'; id: string; frame: string; value: T; resend: boolean }
  /** Out of pace with frames still to go: the next token is due in `ms`. */
  | { kind: 'wait'; ms: number }
  /** The send window is full, or everything is already in flight. */
  | { kind: 'idle' };

// Telemetry written but not acked, per device. Beyond this the device waits
// for acks, like firmware with a small send window; the rest stays buffered.
export const SEND_WINDOW = 32;
// A backlog (messages buffered while offline) goes out at a bounded pace, like
// firmware draining its flash. Unpaced, 5 minutes of buffered readings would hit
// the gateway's per-device rate limit (limits.messagesPerSec, default 100).
export const DEFAULT_SEND_PER_SEC = 50;
const SEND_BURST = SEND_WINDOW;
// Messages kept while offline; past this the oldest goes (rejected with outbox_full).
export const DEFAULT_MAX_BUFFERED = 1000;

export interface OutboxOptions {
  /** Unacked messages kept; a new one beyond this pushes out the oldest. */
  max: number;
  /** Frames per second written at most (after a burst of SEND_WINDOW). */
  sendPerSec: number;
}

/**
 * A device's at-least-once buffer: every message stays until acked and is
 * written again, with the same id, after a reconnect. It decides which frames
 * may be written now (send window, pace, oldest first); the client does the
 * writing and owns the socket and the timers.
 */
export class Outbox<T> {
  /** Insertion order is message order, so iteration is oldest first. */
  readonly #pending = new Map<string, Pending<T>>();
  readonly #max: number;
  readonly #sendPerSec: number;
  #inFlight = 0;
  /** Token bucket pacing the writes; refilled at #sendPerSec. */
  #sendTokens = SEND_BURST;
  #tokensAt: number;

  /** `now` is on the performance.now() clock, as for every time this class takes. */
  constructor(options: OutboxOptions, now = performance.now()) {
    this.#max = options.max;
    this.#sendPerSec = options.sendPerSec;
    this.#tokensAt = now;
  }

  /** Messages not yet acked (buffered or in flight). */
  get size(): number {
    return this.#pending.size;
  }

  /** Messages written on this connection and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /** Buffers a new message; returns the value of the oldest one when it was dropped to make room. */
  add(id: string, frame: string, value: T): T | undefined {
    this.#pending.set(id, { frame, value, sentAt: 0, sends: 0, inFlight: false });
    if (this.#pending.size <= this.#max) return undefined;
    return this.#forget(this.#pending.keys().next().value as string)!.value;
  }

  /**
   * The oldest unsent frame, if the window and the pace allow a write at `now`;
   * a returned frame counts as written (in flight) from here on.
   */
  takeNext(now: number): NextWrite<T> {
    this.#sendTokens = Math.min(SEND_BURST, this.#sendTokens + ((now - this.#tokensAt) / 1000) * this.#sendPerSec);
    this.#tokensAt = now;
    if (this.#inFlight >= SEND_WINDOW) return { kind: 'idle' };
    for (const [id, pending] of this.#pending) {
      if (pending.inFlight) continue;
      if (this.#sendTokens < 1) return { kind: 'wait', ms: Math.ceil(1000 / this.#sendPerSec) };
      this.#sendTokens--;
      pending.inFlight = true;
      pending.sentAt = now;
      this.#inFlight++;
      return { kind: 'write', id, frame: pending.frame, value: pending.value, resend: pending.sends++ > 0 };
    }
    return { kind: 'idle' };
  }

  /**
   * The gateway took message `id`: forget it. Returns its value and the ack latency
   * in ms (from its latest write), or undefined for an id not pending (a duplicate
   * ack of a resent message).
   */
  ack(id: string, now: number): { value: T; latencyMs: number } | undefined {
    const pending = this.#forget(id);
    return pending && { value: pending.value, latencyMs: now - pending.sentAt };
  }

  /** The gateway refused message `id` for good: forget it. Undefined if it was not pending. */
  reject(id: string): T | undefined {
    return this.#forget(id)?.value;
  }

  /** The gateway did not take message `id` this time: keep it, unsent, for a later write. */
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

  /** Empties the buffer; returns the values it held, oldest first. */
  clear(): T[] {
    const values = [...this.#pending.values()].map((pending) => pending.value);
    this.#pending.clear();
    this.#inFlight = 0;
    return values;
  }

  #forget(id: string): Pending<T> | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    if (pending.inFlight) this.#inFlight--;
    return pending;
  }
}
