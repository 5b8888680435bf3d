import type { CapacityResult, FixedRateResult, SaturationResult } from '../load/task.js';
import type { Outcome, Results } from './results.js';

/** Ours ÷ each peer measured in the same run, by peer name. */
export interface Ratios {
  /** Delivered msg/s at saturation (closed loop). */
  saturation: Record<string, number>;
  /** Capacity under the latency bound; peers with a capacity of 0 have none. */
  capacity: Record<string, number>;
  /** Server CPU µs per delivered message at the fixed rate: under 1, ours costs less. */
  cpuPerMessage: Record<string, number>;
}

export function ratiosOf(results: Results): Ratios {
  return {
    saturation: ratios(results.saturation, (r: SaturationResult) => r.deliveredPerSec),
    capacity: ratios(results.capacity, (r: CapacityResult) => r.capacity),
    cpuPerMessage: ratios(results['fixed-rate'], (r: FixedRateResult) => r.serverCpuUsPerMessage),
  };
}

/** The figure of a peer's outcome, when it ran and the figure is a positive number. */
export function figureOf<T>(outcome: Outcome | undefined, figure: (result: T) => number): number | undefined {
  if (!outcome || !('result' in outcome)) return undefined;
  const value = figure(outcome.result as T);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

function ratios<T>(outcomes: Record<string, Outcome> | undefined, figure: (result: T) => number): Record<string, number> {
  const outcome = outcomes?.ours;
  // Ours may be 0 (a capacity under the first step): the ratio is 0 then, not missing.
  const ours = outcome && 'result' in outcome ? figure(outcome.result as T) : undefined;
  if (!outcomes || ours === undefined || !Number.isFinite(ours)) return {};
  const out: Record<string, number> = {};
  for (const [name, outcome] of Object.entries(outcomes)) {
    const peer = figureOf(outcome, figure);
    if (!name.startsWith('ours') && peer !== undefined) out[name] = Math.round((ours / peer) * 100) / 100;
  }
  return out;
}
