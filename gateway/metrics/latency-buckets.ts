/** Upper bounds in seconds of wmg_ack_latency_seconds (an ack normally takes well under a millisecond). */
export const ACK_LATENCY_BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * A fixed-bucket histogram as plain numbers: observing is a short loop and two adds,
 * no allocation (prom-client's observe costs ~140 ns and allocates per call). The
 * last slot counts what is over the highest bound.
 */
export class LatencyBuckets {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly #boundsMs: Float64Array;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
    this.#boundsMs = Float64Array.from(bounds, (seconds) => seconds * 1000);
  }

  observeMs(ms: number): void {
    const bounds = this.#boundsMs;
    let slot = 0;
    while (slot < bounds.length && ms > bounds[slot]!) slot++;
    this.counts[slot]!++;
    this.sum += ms / 1000;
    this.count++;
  }

  /**
   * The bucket bound (seconds) under which `q` of the observations since `earlier`
   * fall; undefined when there were none. Infinity when they are over every bound.
   */
  quantileSince(earlier: Float64Array, q: number): number | undefined {
    let total = 0;
    for (let i = 0; i < this.counts.length; i++) total += this.counts[i]! - earlier[i]!;
    if (total === 0) return undefined;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]! - earlier[i]!;
      if (seen >= q * total) return this.bounds[i] ?? Infinity;
    }
    return Infinity;
  }
}
