import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { DeviceActivity } from '../dashboard/fleet.js';
import type { ErrorCode, GatewayError } from '../errors.js';
import type { Authenticated } from './authenticate.js';
import type { DeviceBudget } from './budgets.js';
import { closeSocket } from './close-socket.js';
import type { GatedReader, InFlightGate } from './in-flight-gate.js';

// setTimeout holds at most 2^31-1 ms (about 24.8 days); a later expiry is reached in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ConnectionLimits {
  maxInFlight: number;
  maxBufferedBytes: number;
}

/** One authenticated device WebSocket, from admission to close. */
export class DeviceConnection implements GatedReader {
  /** Heartbeat ticks since the last pong. */
  missedPongs = 0;
  readonly openedAt = Date.now();
  #inFlight = 0;
  /** Stopped by the gateway-wide bound (InFlightGate) until its turn comes. */
  #waitingTurn = false;
  #corked = false;
  /** When the unsent output first went over limits.maxBufferedBytes; undefined while under. */
  #outputOverSince: number | undefined;
  #expiry: NodeJS.Timeout | undefined;
  #credentialExpired = false;

  constructor(
    readonly ws: WebSocket,
    /** The socket under `ws`, corked per event-loop turn so a turn's frames leave in one TLS write. */
    private readonly socket: Writable,
    readonly remote: string,
    readonly identity: Authenticated,
    /** The device's rate budgets (shared by its connections under `multi`). */
    readonly budget: DeviceBudget,
    private readonly limits: ConnectionLimits,
    /** The device's row on the dashboard (shared by its connections under `multi`). */
    readonly activity: DeviceActivity,
    private readonly gate: InFlightGate,
  ) {
    ws.on('pong', () => (this.missedPongs = 0));
    ws.once('close', () => gate.leave(this));
    socket.on('drain', () => this.#checkOutput());
    if (identity.method === 'jwt') {
      this.#closeAt(identity.expiresAt);
      ws.once('close', () => clearTimeout(this.#expiry));
    }
  }

  /** True once the gateway closed this connection because its JWT expired. */
  get credentialExpired(): boolean {
    return this.#credentialExpired;
  }

  // A JWT is good until its exp, and so is the socket it opened (EMQX does the same):
  // a device that keeps its session must reconnect with a fresh JWT.
  #closeAt(at: number): void {
    const left = at - Date.now();
    if (left > 0) {
      this.#expiry = setTimeout(() => this.#closeAt(at), Math.min(left, MAX_TIMER_MS));
      return;
    }
    this.#credentialExpired = true;
    this.closeWith('unauthorized');
  }

  get device(): string {
    return this.identity.device;
  }

  /**
   * False from the moment the gateway (or the peer) starts closing: frames that
   * still arrive during the close handshake are neither processed nor answered.
   */
  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  /** Writes the frame; false when the socket is closing and nothing was written. */
  send(frame: object): boolean {
    if (!this.isOpen) return false;
    this.#corkUntilNextTurn();
    this.ws.send(JSON.stringify(frame));
    if (this.#outputOverSince === undefined && this.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.#outputOverSince = Date.now();
      this.#updateReading();
    }
    return true;
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

  sendError(error: GatewayError, id: string | undefined): boolean {
    return this.send(id === undefined ? { type: 'error', ...error } : { type: 'error', id, ...error });
  }

  closeWith(code: ErrorCode): void {
    closeSocket(this.ws, code);
  }

  /** How long the device has left more than limits.maxBufferedBytes unread (0 when it has not). */
  outputStalledMs(now: number): number {
    return this.#outputOverSince === undefined ? 0 : now - this.#outputOverSince;
  }

  // Backpressure: past maxInFlight unacked publishes the gateway stops reading
  // this socket (TCP pushes back on the device) instead of queueing in memory.
  publishStarted(): void {
    this.#inFlight++;
    if (!this.gate.started(this)) this.#waitingTurn = true;
    this.#updateReading();
  }

  publishSettled(): void {
    this.#inFlight--;
    this.#updateReading();
    this.gate.settled();
  }

  letIn(): void {
    this.#waitingTurn = false;
    this.#updateReading();
  }

  #checkOutput(): void {
    if (this.#outputOverSince === undefined || this.ws.bufferedAmount > this.limits.maxBufferedBytes) return;
    this.#outputOverSince = undefined;
    this.#updateReading();
  }

  // Three reasons to stop reading: too many publishes in flight on this connection or in
  // the gateway, or replies the device does not read. Reading resumes when none holds
  // (this connection's in flight back to half its bound).
  #updateReading(): void {
    const stop = this.#waitingTurn || this.#outputOverSince !== undefined || this.#inFlight >= this.limits.maxInFlight;
    if (stop && !this.ws.isPaused) this.ws.pause();
    else if (!stop && this.ws.isPaused && this.#inFlight <= this.limits.maxInFlight >> 1) this.ws.resume();
  }
}
