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
  | { scenario: 'storm'; target: Target; devices: number; timeoutMs: number };

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
}

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

export type ScenarioResult = SaturationResult | FixedRateResult | MemoryResult | CommandsResult | StormResult;

/** Load generator -> orchestrator. `level` asks the orchestrator to sample the server's RSS. */
export type LoadMessage =
  | { kind: 'result'; result: ScenarioResult; cpuPercent: number }
  | { kind: 'level'; devices: number; connected: number }
  | { kind: 'failed'; error: string };
