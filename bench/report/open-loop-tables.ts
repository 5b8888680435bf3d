import type { CapacityResult, CapacityStep, FixedRateResult, OverloadResult } from '../load/task.js';
import { cell, fmt, labelOf } from './cells.js';
import { figureOf } from './ratios.js';
import type { BenchReport, Outcome } from './results.js';

/** The capacity, overload and CPU-per-message tables, each only when its scenario ran. */
export function formatOpenLoopTables(report: BenchReport): string[] {
  return [...capacityTable(report), ...overloadTable(report), ...cpuTable(report)];
}

function capacityTable(report: BenchReport): string[] {
  const outcomes = Object.entries(report.results.capacity ?? {});
  if (outcomes.length === 0) return [];
  const { pass, startRate, stepRate, stepMs } = report.plan.capacity;
  const out = [
    '',
    `Capacity: open loop from ${fmt(startRate)} msg/s in steps of ${fmt(stepRate)}, ${stepMs / 1000} s each, until a step fails; a step passes with delivered ≥ ${pass.deliveredShare * 100} % of offered, p99 ≤ ${pass.p99Ms} ms from the schedule, 0 lost, RSS slope < ${pass.rssSlopeMiBPerSec} MiB/s (* = the load generator's send lag p99 was over ${report.plan.capacity.generatorLagMs} ms; a step that failed so is measured again, up to ${report.plan.capacity.generatorRetries} more times, and "attempt n" marks the one judged):`,
    '',
    '| system | capacity msg/s | steps | ours ÷ system | p99 ms and server CPU µs per message at capacity |',
    '|---|---|---|---|---|',
  ];
  for (const [name, outcome] of outcomes) {
    const ratio = report.ratios.capacity[name];
    out.push(
      `| ${labelOf(report, name)} | ${cell(outcome, capacityCell)} | ${cell(outcome, (c: CapacityResult) => c.steps.map(stepCell).join(' · '))} | ${ratio === undefined ? '—' : `${ratio}×`} | ${cell(outcome, atCapacity)} |`,
    );
  }
  return out;
}

function capacityCell(c: CapacityResult): string {
  if (c.capacity === 0) return `< ${fmt(c.steps[0]?.rate ?? 0)}`;
  return `${c.capacity === c.topRate ? '≥ ' : ''}**${fmt(c.capacity)}**`;
}

function stepCell(step: CapacityStep): string {
  const again = step.discarded.length > 0 ? ` (attempt ${step.discarded.length + 1})` : '';
  return `${fmt(step.rate)}${step.generatorLimited ? '*' : ''}: ${step.passed ? 'pass' : `fail (${step.failed.join(', ')})`}${again}`;
}

function atCapacity(c: CapacityResult): string {
  const step = c.steps.find((s) => s.rate === c.capacity);
  return step ? `${step.scheduledLatencyMs.p99} ms, ${step.serverCpuUsPerMessage} µs` : '—';
}

function overloadTable(report: BenchReport): string[] {
  const outcomes = Object.entries(report.results.overload ?? {});
  if (outcomes.length === 0) return [];
  const { factor, durationMs, pushbackShare } = report.plan.overload;
  const out = [
    '',
    `Overload: open loop at ${factor}× each system's capacity above for ${durationMs / 1000} s; lost = acked, never delivered after the drain; unacked = sent, neither acked nor refused when the run ended (not lost); pushed back = under ${pushbackShare * 100} % of what was sent acked while sending:`,
    '',
    '| system | offered msg/s | sent | acked msg/s | delivered msg/s | lost | unacked at the end | peak RSS MiB | RSS slope MiB/s | ack p50 / p99 ms | KiB sent, not read by the server | pushed back |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, outcome] of outcomes) {
    if ('skipped' in outcome) {
      out.push(`| ${labelOf(report, name)} | skipped: ${outcome.skipped} | | | | | | | | | | |`);
      continue;
    }
    const show = (format: (o: OverloadResult) => string): string => cell(outcome, format);
    out.push(
      [
        '',
        labelOf(report, name),
        show((o) => `${fmt(o.rate)}${o.generatorLimited ? '*' : ''}`),
        show((o) => fmt(o.sent)),
        show((o) => fmt(o.ackedPerSec)),
        show((o) => fmt(o.deliveredPerSec)),
        show((o) => `${fmt(o.lost)}${o.drain === 'deadline' ? ' (drain ran out)' : ''}`),
        show((o) => fmt(o.unacked)),
        show((o) => String(Math.round(o.peakRssKiB / 1024))),
        show((o) => String(o.rssSlopeMiBPerSec)),
        show((o) => `${o.ackLatencyMs.p50} / ${o.ackLatencyMs.p99}`),
        show((o) => fmt(o.deviceBacklogKiB)),
        show((o) => `${o.pushedBack ? '**yes**' : 'no'} (acked ${Math.round(o.ackedShare * 100)} % while sending)`),
        '',
      ].join(' | ').trim(),
    );
  }
  return out;
}

function cpuTable(report: BenchReport): string[] {
  const outcomes = Object.entries(report.results['fixed-rate'] ?? {});
  if (outcomes.length === 0) return [];
  const perMessage = (outcome: Outcome | undefined): number | undefined => figureOf(outcome, (f: FixedRateResult) => f.serverCpuUsPerMessage);
  const ceiling = perMessage(report.results['fixed-rate']?.['wss-ceiling']);
  const tls = perMessage(report.results['fixed-rate']?.['mosquitto-tls']);
  const ratio = (value: number | undefined, base: number | undefined): string => (value && base ? `${(value / base).toFixed(2)}×` : '—');
  const out = [
    '',
    `Server CPU per delivered message at a fixed ${fmt(report.plan.fixedRate.rate)} msg/s, over the window after the warm-up (every process of the system summed):`,
    '',
    '| system | server CPU µs per delivered message | ÷ TLS ceiling | ÷ Mosquitto over TLS |',
    '|---|---|---|---|',
  ];
  for (const [name, outcome] of outcomes) {
    const value = perMessage(outcome);
    out.push(`| ${labelOf(report, name)} | ${cell(outcome, (f: FixedRateResult) => String(f.serverCpuUsPerMessage))} | ${ratio(value, ceiling)} | ${ratio(value, tls)} |`);
  }
  return out;
}
