/** A seeded pseudo-random source: the same seed always yields the same sequence. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  /** Standard normal (mean 0, sd 1). */
  gaussian(): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

// mulberry32: 32-bit state, fast, and good enough for plausible sensor noise.
// Math.random cannot be seeded, and `--seed S` must reproduce a series exactly.
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  let spare: number | undefined;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    between: (min, max) => min + (max - min) * next(),
    chance: (p) => p > 0 && next() < p,
    gaussian: () => {
      // Box-Muller yields two values per draw; keep the second for the next call.
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      const u = 1 - next(); // (0, 1], so log() stays finite
      const v = next();
      const radius = Math.sqrt(-2 * Math.log(u));
      spare = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
  };
}

/**
 * A per-device seed from the run seed and the device id, so each device has its
 * own series and adding a device to the fleet does not change the others'.
 */
export function deviceSeed(runSeed: number, device: string): number {
  // FNV-1a over the id, mixed with the run seed.
  let hash = (0x811c9dc5 ^ runSeed) >>> 0;
  for (let i = 0; i < device.length; i++) {
    hash ^= device.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
