import type { CapacityPlan, CapacityResult, OverloadPlan, Task } from './load/task.js';
import type { BenchOptions } from './options.js';
import type { RunningPeer, ScenarioName } from './peers/peer.js';
import type { Results } from './report/results.js';

/** The load shape of each scenario, full or --quick. Same shape for every system. */
export interface Plan {
  saturation: { devices: number; window: number; durationMs: number; drainMs: number };
  fixedRate: { devices: number; rate: number; durationMs: number; drainMs: number };
  capacity: CapacityPlan;
  overload: OverloadPlan;
  memory: { levels: number[] };
  commands: { devices: number; rate: number; durationMs: number };
  storm: { devices: number; timeoutMs: number };
}

/** Send lag p99 past this marks an open-loop step as limited by the load generator. */
const GENERATOR_LAG_MS = 10;
/** Capacity's latency bound: p99 from the schedule. */
const P99_BOUND_MS = 50;

export function planFor(options: BenchOptions): Plan {
  const timed = options.durationMs ?? (options.quick ? 2000 : 10_000);
  const quick = options.quick;
  return {
    saturation: { devices: 200, window: 64, durationMs: timed, drainMs: 10_000 },
    fixedRate: { devices: 200, rate: 10_000, durationMs: timed, drainMs: 5000 },
    capacity: {
      devices: 200,
      startRate: 10_000,
      stepRate: quick ? 5000 : 2500,
      maxRate: 80_000,
      stepMs: quick ? 1500 : 10_000,
      warmupMs: 1000,
      drainMs: 5000,
      settleMs: quick ? 300 : 1000,
      pass: { deliveredShare: 0.99, p99Ms: P99_BOUND_MS, rssSlopeMiBPerSec: 5 },
      generatorLagMs: GENERATOR_LAG_MS,
      generatorRetries: quick ? 1 : 2,
    },
    overload: {
      devices: 200,
      factor: 2,
      durationMs: quick ? 1500 : 10_000,
      warmupMs: quick ? 500 : 1000,
      drainMs: quick ? 3000 : 10_000,
      settleMs: quick ? 500 : 1000,
      pushbackShare: 0.95,
      graceMs: P99_BOUND_MS,
      generatorLagMs: GENERATOR_LAG_MS,
    },
    memory: { levels: quick ? [1000] : [1000, 5000, 10_000] },
    commands: { devices: 200, rate: 500, durationMs: timed },
    storm: { devices: quick ? 1000 : 5000, timeoutMs: 30_000 },
  };
}

/** Devices a peer must be ready for in a scenario. */
export function devicesFor(plan: Plan, scenario: ScenarioName): number {
  switch (scenario) {
    case 'saturation':
    case 'saturation-durable':
    case 'cluster':
      return plan.saturation.devices;
    case 'fixed-rate':
      return plan.fixedRate.devices;
    case 'capacity':
      return plan.capacity.devices;
    case 'overload':
      return plan.overload.devices;
    case 'memory':
      return plan.memory.levels[plan.memory.levels.length - 1]!;
    case 'commands':
      return plan.commands.devices;
    case 'storm':
      return plan.storm.devices;
  }
}

/** How long a scenario's load generator may take: capacity climbs (up to 29 steps in a full run, each measured up to 3 times) on one server start. */
export function generatorTimeoutMs(plan: Plan, scenario: ScenarioName): number {
  if (scenario !== 'capacity') return 180_000;
  const { startRate, stepRate, maxRate, stepMs, drainMs, settleMs, warmupMs, generatorRetries } = plan.capacity;
  const attempts = (Math.floor((maxRate - startRate) / stepRate) + 1) * (1 + generatorRetries);
  return 60_000 + warmupMs + attempts * (stepMs + drainMs + settleMs);
}

/** The capacity overload multiplies: the one this run measured for the peer, or why there is none. */
export function measuredCapacity(results: Results, peer: string): { capacity: number } | { skipped: string } {
  const outcome = results.capacity?.[peer];
  if (!outcome) return { skipped: 'capacity was not run for it' };
  if (!('result' in outcome)) return { skipped: `no capacity measured (${'error' in outcome ? outcome.error.split('\n')[0] : outcome.skipped})` };
  const { capacity, steps } = outcome.result as CapacityResult;
  return capacity > 0 ? { capacity } : { skipped: `capacity under ${steps[0]?.rate ?? 'the first step'} msg/s` };
}

/** `capacity`: what measuredCapacity found, for overload. */
export function taskFor(plan: Plan, scenario: ScenarioName, peer: RunningPeer, capacity?: number): Task {
  const target = peer.target;
  switch (scenario) {
    case 'saturation':
      return { scenario, target, ...plan.saturation };
    case 'saturation-durable':
      return { scenario: 'saturation', target, ...plan.saturation, persistentSubscriber: true };
    case 'cluster':
      return { scenario: 'saturation', target, ...plan.saturation };
    case 'fixed-rate':
      return { scenario, target, ...plan.fixedRate };
    case 'capacity':
      return { scenario, target, ...plan.capacity };
    case 'overload':
      if (!capacity) throw new Error('overload needs the capacity measured for the peer');
      return { scenario, target, ...plan.overload, capacity };
    case 'memory':
      return { scenario, target, ...plan.memory };
    case 'commands':
      if (!peer.backend) throw new Error('commands need a backend login');
      return { scenario, target, ...plan.commands, backend: peer.backend };
    case 'storm':
      return { scenario, target, ...plan.storm };
  }
}
