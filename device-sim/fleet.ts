import { SimDevice, type DeviceIdentity, type DeviceSettings } from './device.js';
import { createSensor } from './models/create-sensor.js';
import { createRng, deviceSeed } from './rng.js';
import { Scheduler, Task } from './scheduler.js';
import { FleetStats } from './stats.js';

/** What a run asks of the fleet; the settings it shares with every device are declared once, in DeviceSettings. */
export interface FleetOptions extends Pick<DeviceSettings, 'url' | 'insecure' | 'invalidRate' | 'dropRate'> {
  devices: readonly DeviceIdentity[];
  /** Readings per second per device. */
  ratePerSec: number;
  /** New connections per second while the fleet starts. */
  rampPerSec: number;
  seed: number;
}

// The ramp hands out starts in small slices, at most this far apart, so
// 200/s is 10 every 50 ms rather than 200 at the top of each second.
const RAMP_TICK_MS = 50;
const DRAIN_POLL_MS = 50;

/** Many SimDevices on one scheduler: ramps them up, and drains and stops them. */
export class Fleet {
  readonly stats = new FleetStats();
  readonly scheduler = new Scheduler();
  readonly devices: SimDevice[];
  readonly #rampPerSec: number;
  readonly #rampTask = new Task(() => this.#rampStep());
  #started = 0;
  #rampStartedAt = 0;

  constructor(options: FleetOptions) {
    this.#rampPerSec = options.rampPerSec;
    const settings = {
      url: options.url,
      insecure: options.insecure,
      intervalMs: 1000 / options.ratePerSec,
      invalidRate: options.invalidRate,
      dropRate: options.dropRate,
      runTag: Date.now().toString(36),
      scheduler: this.scheduler,
      stats: this.stats,
    };
    // Two streams per device: readings come from one, fault decisions from the
    // other, so --invalid-rate does not change the series a seed produces.
    this.devices = options.devices.map((identity) => {
      const seed = deviceSeed(options.seed, identity.device);
      const sensor = createSensor(identity.model, createRng(seed));
      if (!sensor) throw new Error(`no simulator for model ${identity.model}`); // checked by selectDevices
      return new SimDevice(identity, sensor, createRng(seed ^ 0x5bd1e995), settings);
    });
    this.stats.target = this.devices.length;
  }

  start(): void {
    this.#rampStartedAt = Date.now();
    this.#rampStep();
  }

  get unacked(): number {
    let total = 0;
    for (const device of this.devices) total += device.unacked;
    return total;
  }

  /**
   * Stops taking readings, waits up to drainMs for what is in flight to be
   * acked (so a clean run ends with sent == acked), then closes every connection.
   */
  async stop(drainMs: number): Promise<void> {
    this.scheduler.cancel(this.#rampTask);
    for (const device of this.devices) device.stopReading();
    const deadline = Date.now() + drainMs;
    // With nobody connected, nothing will be acked: no point waiting.
    while (this.unacked > 0 && this.stats.connected > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
    for (const device of this.devices) device.stop();
    this.scheduler.stop();
  }

  #rampStep(): void {
    const elapsed = Date.now() - this.#rampStartedAt;
    const due = Math.min(this.devices.length, Math.floor((elapsed * this.#rampPerSec) / 1000) + 1);
    while (this.#started < due) this.devices[this.#started++]!.start();
    if (this.#started < this.devices.length) {
      this.scheduler.after(this.#rampTask, Math.min(RAMP_TICK_MS, Math.ceil(1000 / this.#rampPerSec)));
    }
  }
}
