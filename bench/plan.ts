import type { Task } from './load/task.js';
import type { BenchOptions } from './options.js';
import type { RunningPeer, ScenarioName } from './peers/peer.js';

/** The load shape of each scenario, full or --quick. Same shape for every system. */
export interface Plan {
  saturation: { devices: number; window: number; durationMs: number; drainMs: number };
  fixedRate: { devices: number; rate: number; durationMs: number; drainMs: number };
  memory: { levels: number[] };
  commands: { devices: number; rate: number; durationMs: number };
  storm: { devices: number; timeoutMs: number };
}

export function planFor(options: BenchOptions): Plan {
  const timed = options.durationMs ?? (options.quick ? 3000 : 10_000);
  return {
    saturation: { devices: 200, window: 64, durationMs: timed, drainMs: 10_000 },
    fixedRate: { devices: 200, rate: 10_000, durationMs: timed, drainMs: 5000 },
    memory: { levels: options.quick ? [250, 500, 1000] : [1000, 5000, 10_000] },
    commands: { devices: 200, rate: 500, durationMs: timed },
    storm: { devices: options.quick ? 1000 : 5000, timeoutMs: 30_000 },
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
    case 'memory':
      return plan.memory.levels[plan.memory.levels.length - 1]!;
    case 'commands':
      return plan.commands.devices;
    case 'storm':
      return plan.storm.devices;
  }
}

export function taskFor(plan: Plan, scenario: ScenarioName, peer: RunningPeer): Task {
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
    case 'memory':
      return { scenario, target, ...plan.memory };
    case 'commands':
      if (!peer.backend) throw new Error('commands need a backend login');
      return { scenario, target, ...plan.commands, backend: peer.backend };
    case 'storm':
      return { scenario, target, ...plan.storm };
  }
}
