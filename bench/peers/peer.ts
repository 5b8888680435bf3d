import type { MqttEndpoint, Target } from '../load/task.js';

/**
 * saturation-durable: the saturation load with the subscriber as a persistent (clean: false) session.
 * cluster: the saturation load on our gateway without Redis, with Redis, and as --workers 2 with Redis.
 * capacity: open loop at stepped rates until one misses the latency bound; overload: 2x that capacity.
 */
export type ScenarioName = 'saturation' | 'saturation-durable' | 'fixed-rate' | 'capacity' | 'overload' | 'memory' | 'commands' | 'storm' | 'cluster';

export interface StartOptions {
  /** Devices the scenario will connect (ours provisions tokens for them). */
  devices: number;
  scenario: ScenarioName;
}

export interface RunningPeer {
  target: Target;
  /** The process whose RSS is sampled (memory, capacity, overload). */
  pid: number;
  /** Every process whose CPU the system's figure sums (workers, Redis), by name; default `pid` alone. */
  processes?(): { name: string; pid: number }[];
  /** A backend MQTT login that may publish commands (ours only). */
  backend?: MqttEndpoint;
  stop(): Promise<void>;
}

/** One system the bench drives: ours or a peer a user might pick instead. */
export interface Peer {
  name: string;
  label: string;
  /** What devices speak to it, shown in the table. */
  transport: string;
  scenarios: readonly ScenarioName[];
  /** Of `scenarios`, those left out of --quick (which must stay under 2 minutes). */
  fullOnly: readonly ScenarioName[];
  /** Why this peer cannot run here (binary missing...), or undefined. */
  unavailable(): string | undefined;
  start(options: StartOptions): Promise<RunningPeer>;
}

export function deviceIds(count: number): { id: string }[] {
  return Array.from({ length: count }, (_, i) => ({ id: `bench-${String(i).padStart(5, '0')}` }));
}
