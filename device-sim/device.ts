import { DEFAULT_SEND_PER_SEC } from '../sdk/outbox.js';
import { connectDevice, type DeviceClient, type DeviceError, type OfflineInfo } from '../sdk/node.js';
import { handleCommand, type CommandTarget } from './handle-command.js';
import type { SensorModel } from './models/sensor-model.js';
import type { Rng } from './rng.js';
import { Task, type Scheduler } from './scheduler.js';
import type { FleetStats } from './stats.js';

/** Settings shared by every device of a run. */
export interface DeviceSettings {
  url: string;
  insecure: boolean;
  /** Milliseconds between readings, until a set_interval command or desired state changes it. */
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

const FIRMWARE = 'device-sim-1.0.0';
// Commands every model has (handle-command.ts); each model adds its own.
const COMMON_COMMANDS = ['reboot', 'set_interval', 'ping'];
// Commands that change nothing the backend sees in state.
const READ_ONLY_COMMANDS = new Set(['ping', 'locate']);
// Codes the SDK rejects with that are not the gateway refusing a reading.
const DROPPED = new Set(['outbox_full', 'unauthorized', 'replaced']);

type Phase = 'idle' | 'running' | 'rebooting' | 'stopped' | 'fatal';

/**
 * One simulated device on the device SDK (sdk/): the SDK keeps the connection,
 * the outbox and the answers; this adds readings on a schedule, the simulated
 * firmware's commands and desired state, fault injection and the fleet's stats.
 */
export class SimDevice implements CommandTarget {
  readonly id: string;
  readonly sensor: SensorModel;
  readonly #identity: DeviceIdentity;
  readonly #settings: DeviceSettings;
  readonly #faults: Rng;
  readonly #readTask = new Task(() => this.#onReadDue());
  /** Settings the backend asked for (desired state) that the simulated firmware keeps and reports. */
  readonly #config: Record<string, unknown> = {};
  #client: DeviceClient | undefined;
  #phase: Phase = 'idle';
  #intervalMs: number;
  #seq = 0;
  #stateSeq = 0;
  #unacked = 0;
  #everOnline = false;
  #bootAt = Date.now();
  #rebootDelayMs: number | undefined;

  constructor(identity: DeviceIdentity, sensor: SensorModel, faults: Rng, settings: DeviceSettings) {
    this.id = identity.device;
    this.#identity = identity;
    this.sensor = sensor;
    this.#faults = faults;
    this.#settings = settings;
    this.#intervalMs = settings.intervalMs;
  }

  /** Connects now and takes the first reading at a random point within one interval. */
  start(): void {
    if (this.#phase !== 'idle') return;
    this.#phase = 'running';
    this.#bootAt = Date.now();
    this.#client = this.#connect();
    this.#settings.scheduler.after(this.#readTask, Math.floor(Math.random() * this.#intervalMs));
  }

  /** Stops taking readings; the connection stays up so buffered ones can still be acked. */
  stopReading(): void {
    this.#settings.scheduler.cancel(this.#readTask);
  }

  /** Closes the connection for good; what was not acked stays counted as unacked. */
  stop(): void {
    this.#phase = 'stopped';
    this.#settings.scheduler.cancel(this.#readTask);
    this.#client?.close();
  }

  /** Telemetry not yet acked (buffered or in flight). */
  get unacked(): number {
    return this.#unacked;
  }

  get online(): boolean {
    return this.#client?.online === true;
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
    if (this.#readTask.scheduled) this.#settings.scheduler.after(this.#readTask, this.#intervalMs);
  }

  #connect(): DeviceClient {
    const { stats, url, insecure, dropRate } = this.#settings;
    const client = connectDevice({
      url,
      token: this.#identity.token,
      // Only --insecure accepts the dev gateway's self-signed certificate.
      tls: { rejectUnauthorized: !insecure },
      // A backlog drains at least twice as fast as readings come.
      outbox: { sendPerSec: Math.max(DEFAULT_SEND_PER_SEC, 2000 / this.#intervalMs) },
    });
    client.on('welcome', () => {
      if (this.#phase === 'rebooting') this.#phase = 'running';
      stats.connected++;
      if (this.#everOnline) stats.reconnects++;
      this.#everOnline = true;
      this.#sendState();
    });
    client.on('offline', (info) => this.#onOffline(info));
    client.on('sent', ({ kind, resend }) => {
      if (kind !== 'telemetry') return;
      if (resend) stats.resent++;
      else stats.sent++;
      if (this.#faults.chance(dropRate)) {
        // --drop-rate: the link dies right after this write, so the frame may
        // or may not reach the gateway, and its ack may be lost.
        stats.injectedDrops++;
        client.reconnect();
      }
    });
    client.on('acked', ({ kind, latencyMs }) => {
      if (kind === 'telemetry') stats.recordAck(latencyMs);
    });
    client.on('refused', ({ code }) => stats.countError(code));
    // Everything else the SDK reports is counted from 'refused' and 'offline'.
    client.on('error', (error) => {
      if (error.code === 'bad_json') stats.countError('gateway_bad_json');
    });
    for (const name of [...COMMON_COMMANDS, ...this.sensor.commands]) client.onCommand(name, (params) => this.#onCommand(name, params));
    client.onDesired(({ state }) => this.#applyDesired(state));
    return client;
  }

  #onOffline(info: OfflineInfo): void {
    const { stats, scheduler } = this.#settings;
    if (info.welcomed) stats.connected--;
    if (info.reason) stats.countError(info.reason);
    else if (!info.welcomed && this.#phase === 'running') stats.countConnectFailure(info.cause ?? 'closed');
    if (info.reason === 'unauthorized' && this.#phase !== 'stopped') {
      // The SDK stops retrying a refused token: this device is done.
      this.#phase = 'fatal';
      stats.fatal++;
      scheduler.cancel(this.#readTask);
    }
  }

  #onCommand(name: string, params: Record<string, unknown>): Record<string, unknown> {
    this.#settings.stats.commands++;
    const outcome = handleCommand(this, name, params);
    if (!outcome.ok) throw outcome.error; // {code, message}: the SDK's command_result error
    if (this.#rebootDelayMs !== undefined) {
      const delayMs = this.#rebootDelayMs;
      this.#rebootDelayMs = undefined;
      // After the SDK wrote the command_result, which it does once this returns.
      setImmediate(() => this.#goOfflineFor(delayMs));
    } else if (!READ_ONLY_COMMANDS.has(name)) {
      setImmediate(() => this.#sendState()); // the command changed something the backend sees in state
    }
    return outcome.result;
  }

  /** The simulated firmware applies what it can act on and reports the rest back as kept. */
  #applyDesired(state: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(state)) {
      if (key === 'reportIntervalSec' && typeof value === 'number') this.setIntervalSeconds(value);
      else if (key === 'relay') this.sensor.command('set_relay', { on: value === 'on' });
      else this.#config[key] = value;
    }
    this.#sendState();
  }

  #goOfflineFor(delayMs: number): void {
    const { scheduler } = this.#settings;
    if (this.#phase !== 'running') return;
    this.#phase = 'rebooting';
    scheduler.cancel(this.#readTask);
    this.#client!.reconnect(delayMs);
    this.#bootAt = Date.now() + delayMs;
    scheduler.at(this.#readTask, this.#bootAt + this.#intervalMs);
  }

  #onReadDue(): void {
    const { scheduler, stats, invalidRate, runTag } = this.#settings;
    const now = Date.now();
    const data = this.#faults.chance(invalidRate) ? this.sensor.readInvalid(now) : this.sensor.read(now);
    this.#unacked++;
    this.#client!.telemetry(data, { id: `m-${runTag}-${++this.#seq}`, ts: now }).then(
      () => this.#unacked--,
      (error: DeviceError) => {
        // closed: the run ended first; it stays counted as unacked.
        if (error.code === 'closed') return;
        this.#unacked--;
        if (DROPPED.has(error.code)) stats.dropped++;
        else stats.rejected++;
      },
    );
    // Keep the cadence; after a stall, skip ahead instead of bursting.
    const next = this.#readTask.dueAt + this.#intervalMs;
    scheduler.at(this.#readTask, next > now ? next : now + this.#intervalMs);
  }

  #sendState(): void {
    const client = this.#client;
    if (!client?.online) return;
    const state = {
      firmware: FIRMWARE,
      reportIntervalSec: Math.max(1, Math.round(this.#intervalMs / 1000)),
      ...this.#config,
      ...this.sensor.state(),
    };
    // Refusals are counted from the 'refused' event; a state cut short by the end of the run needs nothing.
    client.state(state, { id: `s-${this.#settings.runTag}-${++this.#stateSeq}` }).catch((error: DeviceError) => void error);
  }
}
