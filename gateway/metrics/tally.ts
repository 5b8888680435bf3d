import { COMMAND_STATUSES } from '../command/queue.js';
import { DEVICE_FRAME_TYPES } from '../device/parse-frame.js';
import type { ErrorCode } from '../errors.js';
import { ACK_LATENCY_BOUNDS, LatencyBuckets } from './latency-buckets.js';

export type DeviceAuthResult = 'ok' | 'unauthorized' | 'auth_timeout';

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;

/** Frame types a device may send (parse-frame.ts), plus `invalid` for a frame that did not parse. */
export const RECEIVED_FRAME_TYPES: readonly string[] = [...DEVICE_FRAME_TYPES, 'invalid'];

/**
 * What the data path counts for /metrics and the dashboard, as plain numbers. A
 * prom-client labelled counter hashes its labels on every inc (~130 ns); a field
 * increment here costs a few, and the exporter reads these at scrape time. Every
 * label set is fixed up front, so no device input can add a series.
 */
export class Tally {
  readonly framesReceived = zeros(RECEIVED_FRAME_TYPES);
  readonly published = { telemetry: 0, state: 0 };
  /** Refused frames by code; refusals are off the fast path, so a Map is fine here. */
  readonly framesRefused = new Map<ErrorCode, number>();
  deadLetters = 0;
  readonly ackLatency = new LatencyBuckets(ACK_LATENCY_BOUNDS);
  readonly deviceAuth = zeros<DeviceAuthResult>(['ok', 'unauthorized', 'auth_timeout']);
  readonly commands = zeros(COMMAND_STATUSES);
  mqttAuthFailures = 0;

  refused(code: ErrorCode): void {
    this.framesRefused.set(code, (this.framesRefused.get(code) ?? 0) + 1);
  }

  get refusedTotal(): number {
    let total = 0;
    for (const n of this.framesRefused.values()) total += n;
    return total;
  }
}
