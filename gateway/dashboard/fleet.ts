import type { ErrorCode } from '../errors.js';
import type { Presence } from '../device/presence.js';

/** What the data path writes per frame for the dashboard: two field increments, no clock read. */
export class DeviceActivity {
  frames = 0;
  /** Telemetry the broker took. */
  readings = 0;
  lastRefusal: ErrorCode | undefined;
}

/** One device on the dashboard: [id, model, online (0/1), connections, lastSeen (epoch ms, 0 = never), readings/s, last refusal code or ""]. */
export type FleetRow = [string, string, 0 | 1, number, number, number, string];

interface Entry {
  model: string;
  activity: DeviceActivity;
  online: boolean;
  connections: number;
  lastSeen: number;
  /** Frame count at the last tick, to see whether the device was heard since. */
  framesSeen: number;
  /** Readings at the last two ticks: the rate is over the last second. */
  readingsBefore: [number, number];
  rate: number;
  /** The row as last sent; a tick sends only rows that differ. */
  sent: string;
}

// Ids without a registry bound (auth.jwt.requireRegistered false) could grow this forever.
const MAX_DEVICES = 100_000;

/** Devices seen since the gateway started, with their presence and activity, for the dashboard feed. */
export class Fleet {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly tickMs: number) {}

  /** The device's activity row, created on its first connection and kept while the gateway runs. */
  activityOf(device: string, model: string): DeviceActivity {
    let entry = this.#entries.get(device);
    if (!entry) {
      if (this.#entries.size >= MAX_DEVICES) this.#forgetOldestOffline();
      entry = { model, activity: new DeviceActivity(), online: false, connections: 0, lastSeen: 0, framesSeen: 0, readingsBefore: [0, 0], rate: 0, sent: '' };
      this.#entries.set(device, entry);
    }
    entry.model = model;
    return entry.activity;
  }

  presence(device: string, presence: Presence): void {
    const entry = this.#entries.get(device);
    if (!entry) return;
    entry.online = presence.online;
    entry.connections = presence.connections;
    entry.lastSeen = Date.now();
  }

  /** Rows changed since the previous tick; also brings last-seen times and rates up to date. */
  tick(now: number): FleetRow[] {
    const changed: FleetRow[] = [];
    const perSecond = 1000 / (2 * this.tickMs);
    for (const [device, entry] of this.#entries) {
      const { activity } = entry;
      if (activity.frames !== entry.framesSeen) {
        entry.framesSeen = activity.frames;
        entry.lastSeen = now;
      }
      entry.rate = Math.round((activity.readings - entry.readingsBefore[0]) * perSecond * 10) / 10;
      entry.readingsBefore = [entry.readingsBefore[1], activity.readings];
      const row = rowOf(device, entry);
      const key = row.join('\u0000');
      if (key !== entry.sent) {
        entry.sent = key;
        changed.push(row);
      }
    }
    return changed;
  }

  rows(): FleetRow[] {
    return [...this.#entries].map(([device, entry]) => rowOf(device, entry));
  }

  get size(): number {
    return this.#entries.size;
  }

  #forgetOldestOffline(): void {
    let oldest: [string, number] | undefined;
    for (const [device, entry] of this.#entries) {
      if (!entry.online && (!oldest || entry.lastSeen < oldest[1])) oldest = [device, entry.lastSeen];
    }
    if (oldest) this.#entries.delete(oldest[0]);
  }
}

const rowOf = (device: string, e: Entry): FleetRow => [device, e.model, e.online ? 1 : 0, e.connections, e.lastSeen, e.rate, e.activity.lastRefusal ?? ''];
