import type { Tally } from '../metrics/tally.js';

/** One second of the fleet: [epoch ms, readings/s in, refusals/s, ack latency p99 in ms (a bucket bound; null = no acks, -1 = over the highest), MQTT clients]. */
export type TotalsSample = [number, number, number, number | null, number];

const KEEP = 600; // ten minutes of one-second samples

/** The dashboard's totals chart: per-second rates taken from the data path's tally. */
export class Totals {
  readonly samples: TotalsSample[] = [];
  #readings: number;
  #refusals: number;
  #latency: Float64Array;
  #at: number;

  constructor(
    private readonly tally: Tally,
    private readonly mqttClients: () => number,
    now = Date.now(),
  ) {
    this.#readings = tally.framesReceived.telemetry;
    this.#refusals = tally.refusedTotal;
    this.#latency = tally.ackLatency.counts.slice();
    this.#at = now;
  }

  sample(now: number): TotalsSample {
    const seconds = Math.max(0.001, (now - this.#at) / 1000);
    const readings = this.tally.framesReceived.telemetry;
    const refusals = this.tally.refusedTotal;
    const p99 = this.tally.ackLatency.quantileSince(this.#latency, 0.99);
    const sample: TotalsSample = [
      now,
      Math.round((readings - this.#readings) / seconds),
      Math.round((refusals - this.#refusals) / seconds),
      p99 === undefined ? null : Number.isFinite(p99) ? p99 * 1000 : -1,
      this.mqttClients(),
    ];
    this.#readings = readings;
    this.#refusals = refusals;
    this.#latency = this.tally.ackLatency.counts.slice();
    this.#at = now;
    this.samples.push(sample);
    if (this.samples.length > KEEP) this.samples.shift();
    return sample;
  }
}
