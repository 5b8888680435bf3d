// Log-linear buckets over microseconds: 16 sub-buckets per power of two, so any
// reported percentile is within ~6% of the true value, in a fixed 4 KiB array
// whatever the number of samples (5,000 devices x 1 msg/s for an hour is 18M).
const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;
const MAX_EXPONENT = 36; // 2^36 us is ~19 hours
const BUCKETS = (MAX_EXPONENT - SUB_BITS + 2) * SUB;

function bucketOf(us: number): number {
  if (us < SUB) return us;
  const exponent = Math.min(Math.floor(Math.log2(us)), MAX_EXPONENT);
  const sub = Math.floor(us / 2 ** (exponent - SUB_BITS)) & (SUB - 1);
  return (exponent - SUB_BITS + 1) * SUB + sub;
}

/** The midpoint of a bucket, in microseconds. */
function valueOf(bucket: number): number {
  if (bucket < SUB) return bucket;
  const exponent = Math.floor(bucket / SUB) - 1 + SUB_BITS;
  const sub = bucket % SUB;
  const width = 2 ** (exponent - SUB_BITS);
  return (SUB + sub) * width + width / 2;
}

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;

  record(ms: number): void {
    const us = Math.max(0, Math.round(ms * 1000));
    this.#counts[bucketOf(us)]!++;
    this.#total++;
  }

  get count(): number {
    return this.#total;
  }

  /** The q-quantile (0..1) in milliseconds, or null with no samples. */
  quantile(q: number): number | null {
    if (this.#total === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.round(valueOf(i)) / 1000;
    }
    return null;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
  }
}
