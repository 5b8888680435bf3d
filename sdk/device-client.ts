import { backoffDelay, RECONNECT_BACKOFF, RESEND_BACKOFF, type BackoffOptions } from './backoff.js';
import { finalClose, isFinalRejection, offlineInfo } from './close-codes.js';
import { answerCommand, type CommandHandler } from './commands.js';
import { DesiredState } from './desired-state.js';
import { DeviceError, errorOfFrame } from './device-error.js';
import { Emitter } from './events.js';
import { DEFAULT_MAX_BUFFERED, DEFAULT_SEND_PER_SEC, Outbox } from './outbox.js';
import { causeOf, checkDeviceUrl, type OpenSocket, type SocketLike } from './socket.js';
import type { Desired, DeviceEvents, DeviceOptions, MessageKind, Phase, Sending, Welcome } from './types.js';

/**
 * A device connection that stays up: reconnects with full-jitter backoff, keeps
 * every unacked telemetry and state message in a bounded outbox and resends it
 * with the same id, retries rate_limited with backoff, answers commands and
 * passes on desired state. The platform's WebSocket comes in through `open`.
 */
export class DeviceClient extends Emitter<DeviceEvents> {
  readonly #options: DeviceOptions;
  readonly #open: OpenSocket;
  readonly #backoff: BackoffOptions;
  readonly #outbox: Outbox<Sending>;
  readonly #commands = new Map<string, CommandHandler>();
  readonly #desired = new DesiredState((error) => this.#emitError(error));
  readonly #idPrefix = Math.random().toString(36).slice(2, 8);
  #socket: SocketLike | undefined;
  #phase: Phase = 'connecting';
  #welcome: Welcome | undefined;
  #attempt = 0;
  #retryAttempt = 0;
  #seq = 0;
  #nextDelayMs: number | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Holds all sending after rate_limited / internal_error. */
  #pauseTimer: ReturnType<typeof setTimeout> | undefined;
  /** Wakes the pump when the outbox's pace allows the next write. */
  #paceTimer: ReturnType<typeof setTimeout> | undefined;
  #paused = false;
  /** Whether the current connection got its welcome. */
  #welcomed = false;

  constructor(options: DeviceOptions, open: OpenSocket) {
    super();
    checkDeviceUrl(options.url);
    this.#options = options;
    this.#open = open;
    this.#backoff = { baseMs: options.reconnect?.minMs ?? RECONNECT_BACKOFF.baseMs, capMs: options.reconnect?.maxMs ?? RECONNECT_BACKOFF.capMs };
    this.#outbox = new Outbox({ max: options.outbox?.max ?? DEFAULT_MAX_BUFFERED, sendPerSec: options.outbox?.sendPerSec ?? DEFAULT_SEND_PER_SEC });
    this.#connect();
  }

  get online(): boolean {
    return this.#phase === 'online';
  }

  /** The welcome of the current (or last) connection. */
  get welcome(): Welcome | undefined {
    return this.#welcome;
  }

  /** The latest desired state the gateway sent, if any. */
  get desired(): Desired | undefined {
    return this.#desired.latest;
  }

  /** Telemetry and state not yet acked (buffered or in flight). */
  get pending(): number {
    return this.#outbox.size;
  }

  /** Resolves on the gateway's ack; rejects with a DeviceError for a refusal (rate_limited is retried, not surfaced). */
  telemetry(data: Record<string, unknown>, options: { id?: string; ts?: number | string } = {}): Promise<void> {
    const id = options.id ?? this.#newId('t');
    // Stamped now: a reading that waits in the outbox keeps the time it was taken.
    const ts = options.ts ?? Date.now();
    return this.#enqueue('telemetry', id, JSON.stringify({ type: 'telemetry', id, ts, data }));
  }

  /** Reports state (merged key by key into the twin's reported side); settles like telemetry(). */
  state(patch: Record<string, unknown>, options: { id?: string } = {}): Promise<void> {
    const id = options.id ?? this.#newId('s');
    return this.#enqueue('state', id, JSON.stringify({ type: 'state', id, state: patch }));
  }

  /** Handles command `name`: the return value is the result, a throw the error. Returns the unsubscribe function. */
  onCommand(name: string, handler: CommandHandler): () => void {
    this.#commands.set(name, handler);
    return () => {
      if (this.#commands.get(name) === handler) this.#commands.delete(name);
    };
  }

  /** Called with each desired state the gateway sends, and at once with the latest one already known. */
  onDesired(handler: (desired: Desired) => void): () => void {
    return this.#desired.add(handler);
  }

  /**
   * Closes the connection and opens a new one after `afterMs` (default: the reconnect
   * backoff, as after a lost link); the outbox is kept and resent.
   */
  reconnect(afterMs?: number): void {
    if (this.#phase === 'stopped') return;
    this.#nextDelayMs = afterMs;
    if (this.#socket) {
      this.#phase = 'closing';
      this.#socket.close(1000, 'reconnecting');
      return;
    }
    clearTimeout(this.#connectTimer);
    this.#connectTimer = setTimeout(() => this.#connect(), afterMs ?? backoffDelay(this.#attempt++, this.#backoff));
  }

  /** Stops for good: closes the socket, and rejects what was not acked with `closed`. */
  close(): void {
    this.#stop(new DeviceError('closed', 'the device was closed before the gateway acked this message'));
    this.#socket?.close(1000, 'closed');
  }

  #newId(kind: string): string {
    return `${kind}-${this.#idPrefix}-${++this.#seq}`;
  }

  #enqueue(kind: MessageKind, id: string, frame: string): Promise<void> {
    if (this.#phase === 'stopped') return Promise.reject(new DeviceError('closed', 'the device is closed'));
    if (this.#outbox.has(id)) return Promise.reject(new DeviceError('duplicate_id', `a message with id ${id} is still waiting for its ack`));
    return new Promise((resolve, reject) => {
      const dropped = this.#outbox.add(id, frame, { kind, resolve, reject });
      dropped?.reject(new DeviceError('outbox_full', 'the outbox was full (outbox.max): the oldest unacked message was dropped'));
      this.#pump();
    });
  }

  #connect(): void {
    if (this.#phase === 'stopped') return;
    this.#phase = 'connecting';
    let failure: string | undefined;
    let opened: ReturnType<OpenSocket>;
    try {
      opened = this.#open(this.#options.url, this.#options.token);
    } catch (err) {
      // The platform refused the options outright (a token with characters no header may carry...): retrying cannot help.
      const error = new DeviceError('connect_failed', (err as Error).message);
      this.#stop(error);
      return this.#emitError(error);
    }
    const { socket, hello } = opened;
    this.#socket = socket;
    socket.onopen = () => {
      if (hello) socket.send(JSON.stringify({ type: 'hello', token: this.#options.token }));
    };
    socket.onmessage = (event) => {
      if (socket === this.#socket && typeof event.data === 'string') this.#onFrame(event.data);
    };
    // The close that always follows reports it; keep the cause where the platform tells it (Node does).
    socket.onerror = (event) => (failure = causeOf(event));
    socket.onclose = (event) => {
      if (socket === this.#socket) this.#onClose(event.code, failure);
    };
  }

  #onFrame(text: string): void {
    let frame: Record<string, unknown>;
    try {
      frame = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return this.#emitError(new DeviceError('bad_json', 'the gateway sent a frame that is not JSON'));
    }
    const id = typeof frame.id === 'string' ? frame.id : undefined;
    switch (frame.type) {
      case 'welcome':
        return this.#onWelcome(frame as unknown as Welcome);
      case 'ack':
        return this.#onAck(id);
      case 'error':
        return this.#onErrorFrame(id, frame);
      case 'command':
        return void answerCommand(this.#commands, frame, (reply) => this.#sendNow(reply)).catch((err: Error) =>
          this.#emitError(new DeviceError('command_result_failed', err.message)),
        );
      case 'desired':
        return this.#desired.update(frame as unknown as Desired);
      default:
        // Frames this version does not know are ignored, so a newer gateway does not break old devices.
        return;
    }
  }

  #onWelcome(welcome: Welcome): void {
    // Closing or stopped meanwhile: this connection is on its way out.
    if (this.#phase !== 'connecting') return;
    this.#phase = 'online';
    this.#welcomed = true;
    this.#attempt = 0;
    this.#welcome = { device: welcome.device, model: welcome.model, heartbeatMs: welcome.heartbeatMs, maxFrameBytes: welcome.maxFrameBytes };
    this.emit('welcome', this.#welcome);
    this.emit('online', this.#welcome);
    this.#pump();
  }

  #onAck(id: string | undefined): void {
    const acked = id === undefined ? undefined : this.#outbox.ack(id, performance.now());
    // Unknown ids are duplicate acks of a resent message.
    if (!acked) return;
    this.#retryAttempt = 0;
    this.emit('acked', { id: id!, kind: acked.value.kind, latencyMs: acked.latencyMs });
    acked.value.resolve();
    this.#pump();
  }

  #onErrorFrame(id: string | undefined, frame: Record<string, unknown>): void {
    const error = errorOfFrame(frame);
    const code = error.code;
    this.emit('refused', id === undefined ? { code } : { id, code });
    if (id === undefined || !this.#outbox.has(id)) return this.#emitError(error);
    if (isFinalRejection(code)) {
      this.#outbox.reject(id)!.reject(error);
      return this.#pump();
    }
    this.#outbox.requeue(id);
    // rate_limited / internal_error: the gateway did not take it; keep it and hold all
    // sending for a backoff. Frames in flight behind it get the same answer: one pause for the lot.
    if (this.#paused) return;
    this.#paused = true;
    this.#pauseTimer = setTimeout(() => {
      this.#paused = false;
      this.#pump();
    }, backoffDelay(this.#retryAttempt++, RESEND_BACKOFF) + 50);
  }

  #onClose(code: number, failure: string | undefined): void {
    const welcomed = this.#welcomed;
    this.#welcomed = false;
    this.#socket = undefined;
    this.#outbox.requeueAll();
    this.#clearSendTimers();
    const info = offlineInfo(code, failure, welcomed);
    if (this.#phase === 'stopped') return this.emit('offline', info);
    const final = info.reason === undefined ? undefined : finalClose(info.reason);
    if (final) {
      const error = new DeviceError(info.reason!, final);
      this.#stop(error);
      this.emit('offline', info);
      return this.#emitError(error);
    }
    this.#phase = 'offline';
    const delay = this.#nextDelayMs ?? backoffDelay(this.#attempt++, this.#backoff);
    this.#nextDelayMs = undefined;
    this.#connectTimer = setTimeout(() => this.#connect(), delay);
    this.emit('offline', { ...info, reconnectInMs: delay });
  }

  #stop(error: DeviceError): void {
    this.#phase = 'stopped';
    clearTimeout(this.#connectTimer);
    this.#clearSendTimers();
    for (const sending of this.#outbox.clear()) sending.reject(error);
  }

  /** Writes buffered messages, as many as the outbox allows now. */
  #pump(): void {
    const socket = this.#socket;
    if (this.#phase !== 'online' || this.#paused || !socket) return;
    for (;;) {
      const next = this.#outbox.takeNext(performance.now());
      if (next.kind === 'idle') return;
      if (next.kind === 'wait') {
        // Out of pace: come back when the next token is due.
        this.#paceTimer ??= setTimeout(() => {
          this.#paceTimer = undefined;
          this.#pump();
        }, next.ms);
        return;
      }
      socket.send(next.frame);
      this.emit('sent', { id: next.id, kind: next.value.kind, resend: next.resend });
      // A 'sent' listener may have closed the connection (device-sim's --drop-rate).
      if (this.#socket !== socket || this.#phase !== 'online') return;
    }
  }

  #clearSendTimers(): void {
    clearTimeout(this.#pauseTimer);
    clearTimeout(this.#paceTimer);
    this.#paceTimer = undefined;
    this.#paused = false;
  }

  #sendNow(frame: object): void {
    if (this.#phase === 'online') this.#socket!.send(JSON.stringify(frame));
  }

  #emitError(error: DeviceError): void {
    // Never a throw into the socket's event handler: with no listener, the console hears of it.
    if (this.hasListeners('error')) this.emit('error', error);
    else console.warn(`ws-mqtt-gateway device: ${error.code}: ${error.message}`);
  }
}
