import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { closeCodeOf, type ErrorCode, type GatewayError } from '../errors.js';
import type { Authenticated } from './authenticate.js';
import type { RateLimiter } from './rate-limit.js';

export interface ConnectionLimits {
  maxInFlight: number;
}

/** One device WebSocket, from upgrade to close. */
export class DeviceConnection {
  identity: Authenticated | undefined;
  /** Heartbeat ticks since the last pong. */
  missedPongs = 0;
  readonly openedAt = Date.now();
  /** The device's rate budget, set when the connection joins its session. */
  limiter: RateLimiter | undefined;
  #inFlight = 0;
  #corked = false;

  constructor(
    readonly ws: WebSocket,
    readonly remote: string,
    private readonly limits: ConnectionLimits,
    /** The socket under `ws`, corked per event-loop turn so a turn's frames leave in one TLS write. */
    private readonly socket: Writable,
  ) {}

  get device(): string | undefined {
    return this.identity?.device;
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  send(frame: object): void {
    if (!this.isOpen) return;
    this.#corkUntilNextTurn();
    this.ws.send(JSON.stringify(frame));
  }

  // A device with many frames in flight gets many acks per turn; one TLS record and
  // one syscall for all of them instead of one each was a large share of the gateway's
  // CPU at saturation (bench/). The delay is at most the rest of the current turn.
  #corkUntilNextTurn(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.socket.cork();
    setImmediate(() => {
      this.#corked = false;
      this.socket.uncork();
    });
  }

  sendError(error: GatewayError, id: string | undefined): void {
    this.send(id === undefined ? { type: 'error', ...error } : { type: 'error', id, ...error });
  }

  /** Closes with the error's close code from ERRORS, its code as the reason. */
  closeWith(code: ErrorCode): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) {
      this.ws.close(closeCodeOf(code) ?? 1011, code);
    }
  }

  // Backpressure: past maxInFlight unacked publishes the gateway stops reading
  // this socket (TCP pushes back on the device) instead of queueing in memory.
  publishStarted(): void {
    if (++this.#inFlight >= this.limits.maxInFlight && !this.ws.isPaused) this.ws.pause();
  }

  publishSettled(): void {
    if (--this.#inFlight <= this.limits.maxInFlight >> 1 && this.ws.isPaused) this.ws.resume();
  }
}
