import type { Percentiles } from './task.js';

/** Collects latency samples (ms) and reports percentiles by sorting once at the end. */
export class Samples {
  #values = new Float64Array(1024);
  #count = 0;

  add(ms: number): void {
    if (this.#count === this.#values.length) {
      const bigger = new Float64Array(this.#values.length * 2);
      bigger.set(this.#values);
      this.#values = bigger;
    }
    this.#values[this.#count++] = ms;
  }

  get count(): number {
    return this.#count;
  }

  percentiles(): Percentiles {
    const sorted = this.#values.subarray(0, this.#count).sort();
    const at = (q: number): number => (sorted.length === 0 ? NaN : round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!));
    return { count: this.#count, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.length === 0 ? NaN : round(sorted[sorted.length - 1]!) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
