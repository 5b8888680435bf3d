import type { CommandsResult, FixedRateResult, MemoryResult, SaturationResult, StormResult } from '../load/task.js';
import { RAISED_LIMITS_IN, STORM_LIMITS } from '../peers/gateway.js';
import { cell, fmt, labelOf, pct } from './cells.js';
import { formatOpenLoopTables } from './open-loop-tables.js';
import type { BenchReport } from './results.js';

/** The report as Markdown tables: what `npm run bench` prints and docs/performance.md holds. */
export function formatReport(report: BenchReport): string {
  const out: string[] = [];
  const r = report.results;

  out.push('| system | transport | delivered msg/s at saturation | sent / acked / delivered | lost (acked, never delivered) | refused | server peak RSS MiB | saturation p50 / p99 ms | p50 / p90 / p99 / max ms at 10k msg/s (p99 from the schedule) | server KiB per idle connection | command p50 / p99 ms | storm |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const peer of report.peers) {
    if (peer.skipped) {
      out.push(`| ${peer.label} | ${peer.transport} | skipped: ${peer.skipped} | | | | | | | | | |`);
      continue;
    }
    const sat = r.saturation?.[peer.name];
    out.push(
      [
        '',
        peer.label,
        peer.transport,
        cell(sat, (s: SaturationResult) => fmt(s.deliveredPerSec)),
        cell(sat, (s: SaturationResult) => `${fmt(s.sent)} / ${fmt(s.acked)} / ${fmt(s.delivered)}`),
        cell(sat, (s: SaturationResult) => (s.unaccounted > 0 && s.acked === 0 ? `${fmt(s.unaccounted)} sent, never delivered (no acks)` : `${fmt(s.lost)} (${pct(s.lost, s.acked)})`)),
        cell(sat, (s: SaturationResult) => refused(s.refused)),
        sat && 'peakRssKiB' in sat ? String(Math.round(sat.peakRssKiB / 1024)) : '—',
        cell(sat, (s: SaturationResult) => `${s.latencyMs.p50} / ${s.latencyMs.p99}`),
        cell(r['fixed-rate']?.[peer.name], (f: FixedRateResult) => `${f.latencyMs.p50} / ${f.latencyMs.p90} / ${f.latencyMs.p99} / ${f.latencyMs.max} (${f.scheduledLatencyMs.p99})${f.delivered < f.sent ? ` (${fmt(f.sent - f.delivered)} undelivered)` : ''}`),
        cell(r.memory?.[peer.name], (m: MemoryResult) => `${m.levels[m.levels.length - 1]?.kibPerDevice ?? '—'}`),
        cell(r.commands?.[peer.name], (c: CommandsResult) => `${c.latencyMs.p50} / ${c.latencyMs.p99}`),
        cell(r.storm?.[peer.name], (s: StormResult) => `${s.welcomed}/${s.devices} in ${s.elapsedMs} ms`),
        '',
      ].join(' | ').trim(),
    );
  }

  const durable = Object.entries(r['saturation-durable'] ?? {}).filter(([, o]) => 'result' in o);
  if (durable.length > 0) {
    out.push('', 'Saturation with one persistent (clean: false) QoS 1 subscriber, every reading queued in the store before the ack (saturation-durable):', '');
    out.push('| system | delivered msg/s | sent / acked / delivered | lost (acked, never delivered) | server CPU µs per delivered message (over the measured window) | p50 / p99 ms |', '|---|---|---|---|---|---|');
    for (const [name, outcome] of durable) {
      const { result } = outcome as { result: SaturationResult };
      const label = labelOf(report, name);
      out.push(`| ${label} | ${fmt(result.deliveredPerSec)} | ${fmt(result.sent)} / ${fmt(result.acked)} / ${fmt(result.delivered)} | ${fmt(result.lost)} | ${result.serverCpuUsPerMessage} | ${result.latencyMs.p50} / ${result.latencyMs.p99} |`);
    }
  }

  const cluster = Object.entries(r.cluster ?? {}).filter(([, o]) => 'result' in o);
  if (cluster.length > 0) {
    out.push('', 'Scale-out (cluster): the saturation load on one embedded node, one node over Redis, and --workers 2 over Redis; CPU summed over every process, Redis included, per delivered message over the measured window (the split by process covers the whole scenario):', '');
    out.push('| system | delivered msg/s | sent / acked / delivered | lost | CPU µs per delivered message | CPU seconds by process | p50 / p99 ms |', '|---|---|---|---|---|---|---|');
    for (const [name, outcome] of cluster) {
      const { result, cpu } = outcome as { result: SaturationResult; cpu: { serverSeconds: number; processes?: Record<string, number> } };
      const label = labelOf(report, name);
      const split = cpu.processes ? Object.entries(cpu.processes).map(([process, seconds]) => `${process} ${seconds}`).join(', ') : `${cpu.serverSeconds}`;
      out.push(`| ${label} | ${fmt(result.deliveredPerSec)} | ${fmt(result.sent)} / ${fmt(result.acked)} / ${fmt(result.delivered)} | ${fmt(result.lost)} | ${result.serverCpuUsPerMessage} | ${split} | ${result.latencyMs.p50} / ${result.latencyMs.p99} |`);
    }
  }

  const memory = Object.entries(r.memory ?? {}).filter(([, o]) => 'result' in o);
  if (memory.length > 0) {
    out.push('', 'Memory growth (server RSS, idle connections; KiB per connection above the empty server):', '');
    out.push('| system | baseline RSS MiB | ' + (memory[0]![1] as { result: MemoryResult }).result.levels.map((l) => `${fmt(l.devices)} devices`).join(' | ') + ' |');
    out.push('|---|---|' + (memory[0]![1] as { result: MemoryResult }).result.levels.map(() => '---|').join(''));
    for (const [name, outcome] of memory) {
      const m = (outcome as { result: MemoryResult }).result;
      const label = labelOf(report, name);
      out.push(`| ${label} | ${(m.baselineRssKiB / 1024).toFixed(1)} | ${m.levels.map((l) => `${(l.rssKiB / 1024).toFixed(1)} MiB, ${l.kibPerDevice} KiB/conn${l.connected < l.devices ? ` (${l.connected} connected)` : ''}`).join(' | ')} |`);
    }
  }

  out.push(...formatOpenLoopTables(report));

  out.push('', 'Targets for ws-mqtt-gateway:', '');
  out.push('| target | goal | measured | met |', '|---|---|---|---|');
  for (const t of report.targets) out.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met === null ? 'not measured' : t.met ? 'yes' : 'NO'} |`);

  if (Object.keys(report.ratios.saturation).length > 0) {
    out.push('', 'Ours ÷ peer, delivered msg/s at saturation: ' + Object.entries(report.ratios.saturation).map(([peer, ratio]) => `${peer} ${ratio}×`).join(', '));
  }
  out.push('', `CPU split: ${report.cpuSplit}`);
  out.push(`Machine: ${report.machine.nproc} × ${report.machine.cpu}, ${fmt(report.machine.memMiB)} MiB RAM, Node ${report.machine.node}`);
  const raised = Object.entries(report.gatewayConfig).filter(([k]) => !(k in STORM_LIMITS));
  out.push(`Gateway config changed for the run: ${raised.map(([k, v]) => `${k}=${v}`).join(', ')} (${RAISED_LIMITS_IN.join(', ')} only); ${Object.entries(STORM_LIMITS).map(([k, v]) => `${k}=${v}`).join(', ')} (storm only)`);
  return out.join('\n');
}

const refused = (codes: Record<string, number>): string => Object.entries(codes).map(([code, n]) => `${code} ${fmt(n)}`).join(', ') || '0';
