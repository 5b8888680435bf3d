import WebSocket from 'ws';
import { backoffDelay, RECONNECT_BACKOFF, RESEND_BACKOFF } from './backoff.js';
import { closeReason, isFinalRejection } from './close-codes.js';
import { handleCommand, type CommandTarget } from './handle-command.js';
import { Outbox } from './outbox.js';
import type { SensorModel } from './models/sensor-model.js';
import type { Rng } from './rng.js';
import { Task, type Scheduler } from './scheduler.js';
import type { FleetStats } from './stats.js';

/** Settings shared by every device of a run. */
export interface DeviceSettings {
  url: string;
  insecure: boolean;
  /** Milliseconds between readings, until a set_interval command changes it. */
  intervalMs: number;
  invalidRate: number;
  dropRate: number;
  /** Distinguishes this run's message ids from an earlier run's. */
  runTag: string;
  scheduler: Scheduler;
  stats: FleetStats;
}

export interface DeviceIdentity {
  device: string;
  model: string;
  token: string;
}

// A newer connection with our id took over (4409): someone else runs this
// device too. Wait well past the usual backoff so the two do not take turns forever.
const REPLACED_PAUSE_MS = 10_000;
const FIRMWARE = 'device-sim-1.0.0';

type Phase = 'idle' | 'connecting' | 'online' | 'offline' | 'rebooting' | 'stopped' | 'fatal';

/**
 * One simulated device: its connection, the frames it writes and its answers
 * to commands. Which readings to write when is the Outbox's call.
 */
export class SimDevice implements CommandTarget {
  readonly id: string;
  readonly sensor: SensorModel;
  readonly #identity: DeviceIdentity;
  readonly #settings: DeviceSettings;
  readonly #faults: Rng;
  readonly #outbox: Outbox;
  readonly #readTask = new Task(() => this.#onReadDue());
  readonly #connectTask = new Task(() => this.#connect());
  readonly #resendTask = new Task(() => this.#resume());
  #ws: WebSocket | undefined;
  #phase: Phase = 'idle';
  #intervalMs: number;
  #seq = 0;
  #stateSeq = 0;
  #attempt = 0;
  #retryAttempt = 0;
  #paused = false;
  #everOnline = false;
  /** Whether this connection got its welcome (and so counts in stats.connected). */
  #welcomed = false;
  #bootAt = Date.now();
  #rebootDelayMs: number | undefined;

  constructor(identity: DeviceIdentity, sensor: SensorModel, faults: Rng, settings: DeviceSettings) {
    this.id = identity.device;
    this.#identity = identity;
    this.sensor = sensor;
    this.#faults = faults;
    this.#settings = settings;
    this.#intervalMs = settings.intervalMs;
    this.#outbox = new Outbox(settings.intervalMs);
  }

  /** Connects now and takes the first reading at a random point within one interval. */
  start(): void {
    if (this.#phase !== 'idle') return;
    this.#bootAt = Date.now();
    this.#connect();
    this.#settings.scheduler.after(this.#readTask, Math.floor(Math.random() * this.#intervalMs));
  }

  /** Stops taking readings; the connection stays up so buffered ones can still be acked. */
  stopReading(): void {
    this.#settings.scheduler.cancel(this.#readTask);
  }

  /** Closes the connection for good. */
  stop(): void {
    this.#phase = 'stopped';
    const { scheduler } = this.#settings;
    scheduler.cancel(this.#readTask);
    scheduler.cancel(this.#connectTask);
    scheduler.cancel(this.#resendTask);
    this.#ws?.close(1000, 'simulation over');
  }

  /** Telemetry not yet acked (buffered or in flight). */
  get unacked(): number {
    return this.#outbox.size;
  }

  get online(): boolean {
    return this.#phase === 'online';
  }

  uptimeMs(): number {
    return Date.now() - this.#bootAt;
  }

  reboot(delayMs: number): void {
    // Acted on after the command_result is written (see #onCommand).
    this.#rebootDelayMs = delayMs;
  }

  setIntervalSeconds(seconds: number): void {
    this.#intervalMs = seconds * 1000;
    this.#outbox.setReadingInterval(this.#intervalMs);
    if (this.#readTask.scheduled) this.#settings.scheduler.after(this.#readTask, this.#intervalMs);
  }

  #connect(): void {
    if (this.#phase === 'stopped' || this.#phase === 'fatal') return;
    this.#phase = 'connecting';
    const ws = new WebSocket(this.#settings.url, {
      headers: { authorization: `Bearer ${this.#identity.token}` },
      // Only --insecure accepts the dev gateway's self-signed certificate.
      rejectUnauthorized: !this.#settings.insecure,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    this.#ws = ws;
    let httpStatus: number | undefined;
    let failure: string | undefined;
    ws.on('message', (data, isBinary) => {
      if (ws === this.#ws && !isBinary) this.#onFrame(data.toString());
    });
    ws.on('unexpected-response', (request, response) => {
      // A gateway may refuse a bad token with an HTTP status instead of 4401.
      httpStatus = response.statusCode;
      request.destroy();
      response.destroy();
    });
    ws.on('error', (error: NodeJS.ErrnoException) => {
      // Reported by 'close', which always follows; keep the cause (ECONNREFUSED,
      // DEPTH_ZERO_SELF_SIGNED_CERT...) so the user can tell what to fix.
      failure = error.code ?? 'connect_error';
    });
    ws.on('close', (code) => {
      if (ws === this.#ws) this.#onClose(code, httpStatus, failure);
    });
  }

  #onFrame(text: string): void {
    let frame: { type?: unknown; id?: unknown; code?: unknown; name?: unknown; params?: unknown };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      this.#settings.stats.countError('gateway_bad_json');
      return;
    }
    switch (frame.type) {
      case 'ack':
        return this.#onAck(frame.id);
      case 'error':
        return this.#onError(frame.id, typeof frame.code === 'string' ? frame.code : 'unknown_error');
      case 'welcome':
        return this.#onWelcome();
      case 'command':
        return this.#onCommand(frame.id, frame.name, frame.params);
      default:
        // Frames this version does not know are ignored, so a newer gateway does not break old devices.
        return;
    }
  }

  #onWelcome(): void {
    const { stats } = this.#settings;
    this.#phase = 'online';
    this.#attempt = 0;
    this.#welcomed = true;
    stats.connected++;
    if (this.#everOnline) stats.reconnects++;
    this.#everOnline = true;
    this.#sendState();
    this.#pump();
  }

  #onAck(id: unknown): void {
    if (typeof id !== 'string') return;
    const latencyMs = this.#outbox.ack(id, performance.now());
    // Unknown ids are state acks or duplicate acks of a resent message.
    if (latencyMs === undefined) return;
    this.#retryAttempt = 0;
    this.#settings.stats.recordAck(latencyMs);
    this.#pump();
  }

  #onError(id: unknown, code: string): void {
    const { stats, scheduler } = this.#settings;
    stats.countError(code);
    if (typeof id !== 'string') return;
    if (isFinalRejection(code)) {
      if (!this.#outbox.reject(id)) return;
      stats.rejected++;
      this.#pump();
      return;
    }
    if (!this.#outbox.requeue(id)) return;
    // rate_limited / internal_error: the gateway did not take it; keep it and
    // hold all sending for a backoff, as the protocol asks.
    // Frames already in flight behind it get the same answer: one pause for the lot.
    if (this.#paused) return;
    this.#paused = true;
    scheduler.after(this.#resendTask, backoffDelay(this.#retryAttempt++, RESEND_BACKOFF) + 50);
  }

  #resume(): void {
    this.#paused = false;
    this.#pump();
  }

  #onCommand(id: unknown, name: unknown, params: unknown): void {
    if (typeof id !== 'string' || typeof name !== 'string') {
      this.#settings.stats.countError('bad_command');
      return;
    }
    const args = params !== null && typeof params === 'object' ? (params as Record<string, unknown>) : {};
    const outcome = handleCommand(this, name, args);
    this.#settings.stats.commands++;
    const reply = outcome.ok
      ? { type: 'command_result', id, ok: true, result: outcome.result }
      : { type: 'command_result', id, ok: false, error: outcome.error };
    this.#ws?.send(JSON.stringify(reply));
    if (this.#rebootDelayMs !== undefined) {
      const delayMs = this.#rebootDelayMs;
      this.#rebootDelayMs = undefined;
      this.#goOfflineFor(delayMs);
    } else if (outcome.ok && name !== 'ping' && name !== 'locate') {
      this.#sendState(); // the command changed something the backend sees in state
    }
  }

  #goOfflineFor(delayMs: number): void {
    const { scheduler } = this.#settings;
    this.#phase = 'rebooting';
    scheduler.cancel(this.#readTask);
    // close() flushes the command_result written just before.
    this.#ws?.close(1000, 'rebooting');
    scheduler.after(this.#connectTask, delayMs);
    this.#bootAt = Date.now() + delayMs;
    scheduler.at(this.#readTask, this.#bootAt + this.#intervalMs);
  }

  #onClose(code: number, httpStatus: number | undefined, failure: string | undefined): void {
    const { stats, scheduler } = this.#settings;
    const wasOnline = this.#welcomed;
    if (wasOnline) stats.connected--;
    this.#welcomed = false;
    this.#ws = undefined;
    this.#outbox.requeueAll();
    const reason = httpStatus === 401 || httpStatus === 403 ? 'unauthorized' : closeReason(code);
    if (reason) stats.countError(reason);
    else if (!wasOnline && this.#phase === 'connecting') stats.countConnectFailure(failure ?? `http_${httpStatus ?? 'closed'}`);
    if (this.#phase === 'stopped' || this.#phase === 'rebooting') return;
    if (reason === 'unauthorized') {
      // Retrying a refused token only hammers the gateway: this device is done.
      this.#phase = 'fatal';
      stats.fatal++;
      scheduler.cancel(this.#readTask);
      // Nothing buffered can ever be delivered now; count it as dropped rather
      // than leave it "unacked", which would hold the end-of-run drain for nothing.
      stats.dropped += this.#outbox.clear();
      return;
    }
    this.#phase = 'offline';
    const delay = backoffDelay(this.#attempt++, RECONNECT_BACKOFF) + (reason === 'replaced' ? REPLACED_PAUSE_MS : 0);
    scheduler.after(this.#connectTask, delay);
  }

  #onReadDue(): void {
    const { scheduler, stats, invalidRate, runTag } = this.#settings;
    const now = Date.now();
    const data = this.#faults.chance(invalidRate) ? this.sensor.readInvalid(now) : this.sensor.read(now);
    const id = `m-${runTag}-${++this.#seq}`;
    const frame = `{"type":"telemetry","id":"${id}","ts":${now},"data":${JSON.stringify(data)}}`;
    if (this.#outbox.add(id, frame)) stats.dropped++;
    // Keep the cadence; after a stall, skip ahead instead of bursting.
    const next = this.#readTask.dueAt + this.#intervalMs;
    scheduler.at(this.#readTask, next > now ? next : now + this.#intervalMs);
    this.#pump();
  }

  /** Writes buffered telemetry, as much as the outbox allows now. */
  #pump(): void {
    if (this.#phase !== 'online' || this.#paused) return;
    const ws = this.#ws!;
    const { stats, dropRate, scheduler } = this.#settings;
    const now = performance.now();
    for (;;) {
      const next = this.#outbox.takeNext(now);
      if (next.kind === 'idle') return;
      if (next.kind === 'wait') {
        // Out of pace: come back when the next token is due.
        if (!this.#resendTask.scheduled) scheduler.after(this.#resendTask, next.ms);
        return;
      }
      ws.send(next.frame);
      if (next.resend) stats.resent++;
      else stats.sent++;
      if (this.#faults.chance(dropRate)) {
        // --drop-rate: the link dies right after this write, so the frame may
        // or may not reach the gateway, and its ack surely will not.
        stats.injectedDrops++;
        ws.terminate();
        return;
      }
    }
  }

  #sendState(): void {
    const ws = this.#ws;
    if (this.#phase !== 'online' || !ws) return;
    const state = {
      firmware: FIRMWARE,
      reportIntervalSec: Math.max(1, Math.round(this.#intervalMs / 1000)),
      ...this.sensor.state(),
    };
    ws.send(JSON.stringify({ type: 'state', id: `s-${this.#settings.runTag}-${++this.#stateSeq}`, state }));
  }
}
