/**
 * What the orchestrator asks of the load generator and what it gets back.
 * Both sides are separate processes; these plain objects cross the IPC channel.
 */

/** How a simulated device talks to the system under test. */
export type DriverKind =
  | 'gateway' //   our WSS device protocol: telemetry frame -> ack frame
  | 'ws-ack' //    bare ws server that JSON.parses and acks (the ceiling)
  | 'mqtt-ws' //   MQTT 3.1.1 over WebSocket, QoS 1: PUBLISH -> PUBACK
  | 'ws-fire'; //  plain WebSocket without any ack (Node-RED's websocket-in)

export interface BenchDevice {
  id: string;
  token?: string;
}

export interface MqttEndpoint {
  url: string;
  username?: string;
  password?: string;
}

export interface Target {
  driver: DriverKind;
  deviceUrl: string;
  /** PEM of the CA to trust for wss:// (our dev certificate). */
  ca?: string;
  devices: BenchDevice[];
  /** Where a backend subscribes to device telemetry; absent when the system has no broker (the ceiling). */
  subscriber?: MqttEndpoint;
}

export type Task =
  | { scenario: 'saturation'; target: Target; devices: number; window: number; durationMs: number; drainMs: number; persistentSubscriber?: boolean }
  | { scenario: 'fixed-rate'; target: Target; devices: number; rate: number; durationMs: number; drainMs: number }
  | { scenario: 'memory'; target: Target; levels: number[] }
  | { scenario: 'commands'; target: Target; devices: number; rate: number; durationMs: number; backend: MqttEndpoint }
  | { scenario: 'storm'; target: Target; devices: number; timeoutMs: number }
  | ({ scenario: 'capacity'; target: Target } & CapacityPlan)
  | ({ scenario: 'overload'; target: Target; capacity: number } & OverloadPlan);

/** Open loop at stepped rates until a step fails the bound (bench/load/capacity.ts). */
export interface CapacityPlan {
  devices: number;
  startRate: number;
  stepRate: number;
  maxRate: number;
  stepMs: number;
  /** At the first rate before the first step, reported apart. */
  warmupMs: number;
  /** After each step: wait at most this long for everything sent to be delivered. */
  drainMs: number;
  /** Then idle this long before the next step. */
  settleMs: number;
  pass: CapacityBound;
  /** A step whose send lag p99 passes this is marked generatorLimited. */
  generatorLagMs: number;
  /** A step that failed while generatorLimited is run again up to this many times; the last attempt is judged. */
  generatorRetries: number;
}

/** What a step must hold to pass. */
export interface CapacityBound {
  /** Delivered msg/s over the step at least this share of the offered rate. */
  deliveredShare: number;
  /** p99 from the schedule (due time -> subscriber receipt) at most this. */
  p99Ms: number;
  /** Server RSS growing slower than this (least squares over the step's samples). */
  rssSlopeMiBPerSec: number;
}

/** `factor` x the capacity the same run measured, after a warm-up at the capacity (bench/load/overload.ts). */
export interface OverloadPlan {
  devices: number;
  factor: number;
  durationMs: number;
  warmupMs: number;
  drainMs: number;
  settleMs: number;
  /** Acking less than this share of what was sent, while it was sent, counts as pushing back. */
  pushbackShare: number;
  /** Acks and deliveries this long after the last send still count in the rates (the capacity bound's p99). */
  graceMs: number;
  generatorLagMs: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SaturationResult {
  sent: number;
  acked: number;
  /** Distinct messages the subscriber saw (or acks, for the ceiling which has no broker). */
  delivered: number;
  /** Acked, yet never delivered once the run drained. */
  lost: number;
  /** Sent without ack and never delivered (only meaningful for drivers without acks). */
  unaccounted: number;
  refused: Record<string, number>;
  deliveredPerSec: number;
  ackedPerSec: number;
  measuredMs: number;
  /** Server CPU µs per delivered message over the measured window (every process of the system summed). */
  serverCpuUsPerMessage: number;
  frameBytes: number;
  latencyMs: Percentiles;
  ackLatencyMs: Percentiles;
}

export interface FixedRateResult {
  rate: number;
  sent: number;
  delivered: number;
  lost: number;
  refused: Record<string, number>;
  /** After the warm-up: device send -> subscriber receive. */
  latencyMs: Percentiles;
  /** After the warm-up: scheduled send -> subscriber receive, i.e. latencyMs plus the generator's send lag. */
  scheduledLatencyMs: Percentiles;
  ackLatencyMs: Percentiles;
  /** The first fifth of the run (at most 1 s) against a freshly started server, at the same rate. */
  warmupLatencyMs: Percentiles;
  warmupAckLatencyMs: Percentiles;
  /** How late the load generator sent against the schedule: if this is large, the generator, not the system, is slow. */
  sendLagMs: Percentiles;
  /** Server CPU over the window after the warm-up ÷ messages delivered in that window. */
  serverCpuUsPerMessage: number;
}

/** One open-loop step at a fixed rate, drained before the next. */
export interface OpenLoopStep {
  /** Offered msg/s. */
  rate: number;
  sent: number;
  /** This step's messages delivered once it drained. */
  delivered: number;
  /** Deliveries while the step was sending ÷ its length. */
  deliveredPerSec: number;
  lost: number;
  refused: Record<string, number>;
  /** Due time -> subscriber receipt: what the capacity bound judges. */
  scheduledLatencyMs: Percentiles;
  /** Device send -> subscriber receipt. */
  latencyMs: Percentiles;
  ackLatencyMs: Percentiles;
  sendLagMs: Percentiles;
  /** Least-squares slope of the server's RSS sampled every 500 ms over the step. */
  rssSlopeMiBPerSec: number;
  rssEndKiB: number;
  /** Server CPU while the step sent ÷ messages delivered meanwhile. */
  serverCpuUsPerMessage: number;
  /** The load generator's send lag p99 passed the plan's bound: it, not the system, may have been the limit. */
  generatorLimited: boolean;
}

export interface CapacityStep extends OpenLoopStep {
  passed: boolean;
  /** Why it failed, e.g. "p99 239 ms"; empty when it passed. */
  failed: string[];
  /** Earlier attempts at this rate, set aside because they failed while the load generator was late (generatorLimited). */
  discarded: Array<{ failed: string[]; sendLagP99Ms: number }>;
}

export interface CapacityResult {
  /** Highest step passed with every lower step passed; 0 when the first failed. */
  capacity: number;
  /** The last rate the plan would offer: a capacity equal to it is a lower bound. */
  topRate: number;
  warmup: OpenLoopStep;
  steps: CapacityStep[];
}

export interface OverloadResult {
  /** The capacity this run measured, and the rate offered (factor x capacity). */
  capacity: number;
  rate: number;
  sent: number;
  acked: number;
  delivered: number;
  /** While sending. */
  ackedPerSec: number;
  deliveredPerSec: number;
  /** Acked, never delivered once drained (or the drain ran out, see `drain`). */
  lost: number;
  /** Sent, neither acked nor refused when the run ended: still on its way (a system that pushed back), not lost. */
  unacked: number;
  refused: Record<string, number>;
  /** Server RSS, sampled every 500 ms from the start of the overload to the end of its drain. */
  peakRssKiB: number;
  rssSlopeMiBPerSec: number;
  ackLatencyMs: Percentiles;
  sendLagMs: Percentiles;
  generatorLimited: boolean;
  /** Share of what was sent that was acked while sending (and graceMs after): under the plan's pushbackShare the system slowed its acks. */
  ackedShare: number;
  /**
   * KiB the devices had sent that the server had not read when the sending ended: in the
   * devices' buffers and both sides' TCP queues (TCP backpressure: the server stopped
   * reading). Unlike ackedShare it does not move when the load generator, busy sending,
   * reads acks late.
   */
  deviceBacklogKiB: number;
  pushedBack: boolean;
  drain: DrainOutcome;
  warmup: OpenLoopStep;
}

/** How a drain ended: all delivered, nothing moved for a second, or its deadline while still delivering. */
export type DrainOutcome = 'done' | 'stalled' | 'deadline';

export interface MemoryLevel {
  devices: number;
  connected: number;
  rssKiB: number;
  kibPerDevice: number;
}

export interface MemoryResult {
  baselineRssKiB: number;
  levels: MemoryLevel[];
}

export interface CommandsResult {
  rate: number;
  sent: number;
  succeeded: number;
  statuses: Record<string, number>;
  /** After the warm-up. */
  latencyMs: Percentiles;
  /** The first fifth of the run (at most 1 s) against a freshly started server. */
  warmupLatencyMs: Percentiles;
}

export interface StormResult {
  devices: number;
  welcomed: number;
  elapsedMs: number;
  failures: Record<string, number>;
}

export type ScenarioResult = SaturationResult | FixedRateResult | MemoryResult | CommandsResult | StormResult | CapacityResult | OverloadResult;

/** Load generator -> orchestrator. `sample` asks the orchestrator (it owns the server's pids) for a ServerSample. */
export type LoadMessage =
  | { kind: 'result'; result: ScenarioResult; cpuPercent: number }
  | { kind: 'sample' }
  | { kind: 'failed'; error: string };

/** Orchestrator -> load generator, answering `sample`. */
export interface ServerSample {
  /** RSS of the server's main process. */
  rssKiB: number;
  /** CPU seconds used so far, summed over every process of the system (RunningPeer.processes). */
  cpuSeconds: number;
}
