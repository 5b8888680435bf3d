import type { FleetStats, RunSummary } from './stats.js';

/** Counter values at one moment, to turn totals into per-second rates. */
interface Sample {
  at: number;
  sent: number;
  acked: number;
}

export interface LiveStatsOptions {
  /** Where to draw; stderr, so stdout stays clean for --json. */
  out: NodeJS.WriteStream;
  unacked: () => number;
  /** Redraw period on a TTY; plain lines come every plainEveryMs. */
  everyMs?: number;
  plainEveryMs?: number;
}

/**
 * Live stats: on a TTY one block redrawn in place once a second; otherwise one
 * plain line every few seconds, which reads well in CI logs and files.
 */
export class LiveStats {
  readonly #stats: FleetStats;
  readonly #options: LiveStatsOptions;
  readonly #tty: boolean;
  #timer: NodeJS.Timeout | undefined;
  #previous: Sample;
  #drawnLines = 0;

  constructor(stats: FleetStats, options: LiveStatsOptions) {
    this.#stats = stats;
    this.#options = options;
    this.#tty = options.out.isTTY === true;
    this.#previous = { at: Date.now(), sent: 0, acked: 0 };
  }

  start(): void {
    const period = this.#tty ? (this.#options.everyMs ?? 1000) : (this.#options.plainEveryMs ?? 5000);
    this.#timer = setInterval(() => this.#draw(), period);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #draw(): void {
    const stats = this.#stats;
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.#previous.at) / 1000);
    const sample = { at: now, sent: stats.sent + stats.resent, acked: stats.acked };
    const sentRate = (sample.sent - this.#previous.sent) / seconds;
    const ackedRate = (sample.acked - this.#previous.acked) / seconds;
    this.#previous = sample;
    const p50 = stats.recentLatency.quantile(0.5);
    const p99 = stats.recentLatency.quantile(0.99);
    stats.recentLatency.reset();
    const errors = formatErrors(Object.fromEntries(stats.errors));
    const elapsed = formatElapsed(now - stats.startedAt);
    if (!this.#tty) {
      this.#options.out.write(
        `[${elapsed}] connected ${stats.connected}/${stats.target} sent/s ${sentRate.toFixed(0)} acked/s ${ackedRate.toFixed(0)} ` +
          `p50 ${ms(p50)} p99 ${ms(p99)} unacked ${this.#options.unacked()} reconnects ${stats.reconnects} ` +
          `commands ${stats.commands} errors ${errors}\n`,
      );
      return;
    }
    const lines = [
      `device-sim  ${elapsed}`,
      `  connected   ${stats.connected}/${stats.target}${hint(stats)}`,
      `  sent/s      ${sentRate.toFixed(0).padEnd(8)} acked/s ${ackedRate.toFixed(0).padEnd(8)} unacked ${this.#options.unacked()}`,
      `  ack latency p50 ${ms(p50).padEnd(9)} p99 ${ms(p99)}`,
      `  totals      sent ${stats.sent}  acked ${stats.acked}  rejected ${stats.rejected}  resent ${stats.resent}`,
      `  reconnects  ${stats.reconnects}  connect failures ${stats.connectFailures}  commands ${stats.commands}`,
      `  errors      ${errors}`,
    ];
    // Move up over the previous block and clear it, then draw the new one.
    const rewind = this.#drawnLines > 0 ? `\x1b[${this.#drawnLines}F\x1b[J` : '';
    this.#options.out.write(`${rewind}${lines.join('\n')}\n`);
    this.#drawnLines = lines.length;
  }
}

function hint(stats: FleetStats): string {
  if (stats.connected > 0 || stats.connectFailures === 0) return '';
  return `   (${connectAdvice(Object.fromEntries(stats.connectErrors))})`;
}

/** What to do about the usual reasons a fleet cannot connect. */
export function connectAdvice(causes: Record<string, number>): string {
  const codes = Object.keys(causes);
  if (codes.some((code) => /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code))) {
    return "the gateway's certificate is not trusted; for the dev gateway's self-signed one, pass --insecure";
  }
  if (codes.includes('ECONNREFUSED')) return 'nothing listens at --url; is the gateway running (npm start)?';
  return `cannot connect: ${codes.join(', ')}`;
}

function ms(value: number | null): string {
  if (value === null) return '-';
  return value < 10 ? `${value.toFixed(2)}ms` : `${value.toFixed(0)}ms`;
}

function formatElapsed(totalMs: number): string {
  const s = Math.floor(totalMs / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function formatErrors(errors: Record<string, number>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? 'none' : entries.map(([code, n]) => `${code}=${n}`).join(' ');
}

/** The end-of-run summary for people; --json prints the RunSummary object instead. */
export function formatSummary(summary: RunSummary): string {
  return [
    `device-sim summary (${(summary.durationMs / 1000).toFixed(1)}s, seed ${summary.seed})`,
    `  devices     ${summary.devices} (connected at end: ${summary.connected}, unauthorized: ${summary.unauthorized})`,
    `  telemetry   sent ${summary.sent}, acked ${summary.acked}, rejected ${summary.rejected}, unacked ${summary.unacked}, resent ${summary.resent}, dropped ${summary.dropped}`,
    `  ack latency p50 ${ms(summary.ackLatencyMs.p50)}, p99 ${ms(summary.ackLatencyMs.p99)}, max ${ms(summary.ackLatencyMs.max)}`,
    `  reconnects  ${summary.reconnects} (connect failures ${summary.connectFailures}, injected drops ${summary.injectedDrops})`,
    ...(summary.connectFailures > 0 && summary.acked === 0 ? [`  hint        ${connectAdvice(summary.connectErrors)}`] : []),
    `  commands    ${summary.commands}`,
    `  errors      ${formatErrors(summary.errors)}`,
  ].join('\n');
}
