import { LatencyHistogram } from './latency-histogram.js';

/**
 * Fleet-wide counters. Devices bump plain fields (no events, no allocation);
 * the renderer reads them once a second.
 */
export class FleetStats {
  /** Devices the run asked for. */
  target = 0;
  /** Devices with a live, welcomed connection. */
  connected = 0;
  /** Distinct telemetry messages written to a socket at least once. */
  sent = 0;
  /** Telemetry frames written again with the same id (after reconnect, rate_limited, internal_error). */
  resent = 0;
  /** Distinct telemetry messages the gateway acked. */
  acked = 0;
  /** Telemetry the gateway refused for good (invalid_telemetry, bad_frame...): never acked, never resent. */
  rejected = 0;
  /** Readings discarded because a device's offline buffer was full. */
  dropped = 0;
  /** Successful connections after a device's first one. */
  reconnects = 0;
  /** Connection attempts that failed before the welcome (refused, TLS, timeout). */
  connectFailures = 0;
  /** Disconnects caused on purpose by --drop-rate. */
  injectedDrops = 0;
  /** Commands answered (ok or not). */
  commands = 0;
  /** Devices that stopped for good because the gateway refused their token (4401). */
  fatal = 0;
  readonly errors = new Map<string, number>();
  /** Why connection attempts failed: ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, http_503... */
  readonly connectErrors = new Map<string, number>();
  readonly latency = new LatencyHistogram();
  /** Latency since the last live-stats line only. */
  readonly recentLatency = new LatencyHistogram();
  readonly startedAt = Date.now();

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  countConnectFailure(cause: string): void {
    this.connectFailures++;
    this.connectErrors.set(cause, (this.connectErrors.get(cause) ?? 0) + 1);
  }

  recordAck(latencyMs: number): void {
    this.acked++;
    this.latency.record(latencyMs);
    this.recentLatency.record(latencyMs);
  }
}

export interface RunSummary {
  devices: number;
  /** Pass it back as --seed to get the same readings. */
  seed: number;
  connected: number;
  durationMs: number;
  sent: number;
  resent: number;
  acked: number;
  rejected: number;
  unacked: number;
  dropped: number;
  errors: Record<string, number>;
  reconnects: number;
  connectFailures: number;
  connectErrors: Record<string, number>;
  injectedDrops: number;
  commands: number;
  unauthorized: number;
  ackLatencyMs: { p50: number | null; p99: number | null; max: number | null };
}

/** The final numbers; `unacked` is what was still waiting for an ack when the run stopped. */
export function summarize(stats: FleetStats, unacked: number, seed: number): RunSummary {
  return {
    devices: stats.target,
    seed,
    connected: stats.connected,
    durationMs: Date.now() - stats.startedAt,
    sent: stats.sent,
    resent: stats.resent,
    acked: stats.acked,
    rejected: stats.rejected,
    unacked,
    dropped: stats.dropped,
    errors: Object.fromEntries([...stats.errors].sort(([a], [b]) => a.localeCompare(b))),
    reconnects: stats.reconnects,
    connectFailures: stats.connectFailures,
    connectErrors: Object.fromEntries(stats.connectErrors),
    injectedDrops: stats.injectedDrops,
    commands: stats.commands,
    unauthorized: stats.fatal,
    ackLatencyMs: {
      p50: stats.latency.quantile(0.5),
      p99: stats.latency.quantile(0.99),
      max: stats.latency.quantile(1),
    },
  };
}
