import { Command, InvalidArgumentError } from 'commander';
import type { ScenarioName } from './peers/peer.js';

export interface BenchOptions {
  quick: boolean;
  /** Overrides the length of the timed scenarios (saturation, fixed rate, commands); not capacity's steps nor overload. */
  durationMs: number | undefined;
  /** Peer names to run; undefined = all. */
  only: string[] | undefined;
  scenarios: ScenarioName[] | undefined;
  outDir: string | undefined;
}

/** Every scenario, in the order a run takes them: capacity before overload, which offers a multiple of it. */
export const SCENARIOS: readonly ScenarioName[] = ['saturation', 'saturation-durable', 'fixed-rate', 'capacity', 'overload', 'memory', 'commands', 'storm', 'cluster'];

function duration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value);
  if (!match) throw new InvalidArgumentError('use e.g. 2s or 1500ms');
  return Math.round(Number(match[1]) * (match[2] === 'ms' ? 1 : 1000));
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function scenarioList(value: string): ScenarioName[] {
  const names = list(value);
  for (const name of names) if (!SCENARIOS.includes(name as ScenarioName)) throw new InvalidArgumentError(`unknown scenario ${name}; one of ${SCENARIOS.join(', ')}`);
  return names as ScenarioName[];
}

export function parseOptions(argv: string[]): BenchOptions {
  const flags = new Command('bench')
    .description('Throughput, loss, latency, capacity under a latency bound, overload, memory, command round trip and connection storm: ours side by side with its peers')
    .option('--quick', 'short runs and smaller device counts (under 2 minutes)', false)
    .option('--duration <time>', 'length of saturation, fixed rate and commands, e.g. 2s (capacity steps and overload keep theirs)', duration)
    .option('--only <peers>', 'comma-separated peers: ours, ours-offload, ours-redis, ours-workers2, ws-ceiling, wss-ceiling, mosquitto, mosquitto-mq0, mosquitto-tls, aedes, node-red', list)
    .option('--scenarios <names>', `comma-separated: ${SCENARIOS.join(', ')}`, scenarioList)
    .option('--out <dir>', 'where to write <timestamp>.json (default bench/results)')
    .parse(argv, { from: 'user' })
    .opts<{ quick: boolean; duration?: number; only?: string[]; scenarios?: ScenarioName[]; out?: string }>();
  return { quick: flags.quick, durationMs: flags.duration, only: flags.only, scenarios: flags.scenarios, outDir: flags.out };
}
