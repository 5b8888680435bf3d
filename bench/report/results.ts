import type { ScenarioResult } from '../load/task.js';
import type { ScenarioName } from '../peers/peer.js';
import type { Plan } from '../plan.js';
import type { Machine } from './machine.js';
import type { Ratios } from './ratios.js';
import type { TargetCheck } from './targets.js';

export type Outcome = { result: ScenarioResult; cpu: { loadPercent: number; serverPercent: number; serverSeconds: number; processes?: Record<string, number> }; peakRssKiB: number } | { error: string } | { skipped: string };

/** scenario -> peer name -> outcome */
export type Results = Partial<Record<ScenarioName, Record<string, Outcome>>>;

/** The shape of bench/results/<timestamp>.json (checked by test/smoke/bench-smoke.test.ts). */
export interface BenchReport {
  version: 2;
  startedAt: string;
  finishedAt: string;
  mode: 'quick' | 'full';
  machine: Machine;
  cpuSplit: string;
  plan: Plan;
  /** Config changes from defaults that the run applied to our gateway. */
  gatewayConfig: Record<string, string>;
  peers: { name: string; label: string; transport: string; skipped?: string }[];
  results: Results;
  targets: TargetCheck[];
  ratios: Ratios;
}
