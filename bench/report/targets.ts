import type { CommandsResult, FixedRateResult, MemoryResult, SaturationResult, StormResult } from '../load/task.js';
import type { Outcome, Results } from './results.js';

export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
}

function ok<T>(outcome: Outcome | undefined): T | undefined {
  return outcome && 'result' in outcome ? (outcome.result as T) : undefined;
}

/** The issue's targets for our gateway, checked against this run (null = not measured). */
export function checkTargets(results: Results): TargetCheck[] {
  const sat = ok<SaturationResult>(results.saturation?.ours);
  const durable = ok<SaturationResult>(results['saturation-durable']?.ours);
  const fixed = ok<FixedRateResult>(results['fixed-rate']?.ours);
  const mem = ok<MemoryResult>(results.memory?.ours);
  const cmd = ok<CommandsResult>(results.commands?.ours);
  const storm = ok<StormResult>(results.storm?.ours);
  const last = mem?.levels[mem.levels.length - 1];
  // Judged on the default (TLS in the gateway); the offloaded figure is shown beside it.
  const offloaded = ok<MemoryResult>(results.memory?.['ours-offload'])?.levels.at(-1);
  const perMessage = (name: string): number | undefined => {
    const outcome = results.cluster?.[name];
    if (!outcome || !('result' in outcome)) return undefined;
    const delivered = (outcome.result as SaturationResult).delivered;
    return delivered > 0 ? (outcome.cpu.serverSeconds * 1e6) / delivered : undefined;
  };
  const embeddedCpu = perMessage('ours');
  const redisCpu = perMessage('ours-redis');
  const clusterLost = Object.values(results.cluster ?? {}).map((o) => ('result' in o ? (o.result as SaturationResult).lost : undefined));
  return [
    {
      name: 'saturation',
      target: '>= 40000 delivered msg/s, 0 lost',
      measured: sat ? `${sat.deliveredPerSec} msg/s, ${sat.lost} lost` : 'not run',
      met: sat ? sat.deliveredPerSec >= 40_000 && sat.lost === 0 : null,
    },
    {
      name: 'saturation-durable',
      target: '>= 25000 delivered msg/s to a persistent QoS 1 session, 0 lost',
      measured: durable ? `${durable.deliveredPerSec} msg/s, ${durable.lost} lost` : 'not run',
      met: durable ? durable.deliveredPerSec >= 25_000 && durable.lost === 0 : null,
    },
    {
      name: 'fixed-rate',
      target: 'p99 <= 3 ms at 10k msg/s',
      measured: fixed ? `p99 ${fixed.latencyMs.p99} ms send -> receive, ${fixed.scheduledLatencyMs.p99} ms from the schedule (${fixed.delivered}/${fixed.sent} delivered)` : 'not run',
      met: fixed ? fixed.latencyMs.p99 <= 3 && fixed.delivered === fixed.sent : null,
    },
    {
      name: 'memory',
      target: '<= 12 KiB RSS per idle device at 10k devices',
      measured: last ? `${last.kibPerDevice} KiB at ${last.connected} devices${offloaded ? `; with --tls-offload ${offloaded.kibPerDevice} KiB` : ''}` : 'not run',
      met: last ? last.kibPerDevice <= 12 && last.devices >= 10_000 : null,
    },
    {
      name: 'commands',
      target: 'p99 <= 10 ms at 500/s',
      measured: cmd ? `p99 ${cmd.latencyMs.p99} ms (${cmd.succeeded}/${cmd.sent} succeeded)` : 'not run',
      met: cmd ? cmd.latencyMs.p99 <= 10 && cmd.succeeded === cmd.sent : null,
    },
    {
      name: 'storm',
      target: '5000 devices welcomed in <= 5 s, 0 failures',
      measured: storm ? `${storm.welcomed}/${storm.devices} in ${storm.elapsedMs} ms, failures ${JSON.stringify(storm.failures)}` : 'not run',
      met: storm ? storm.devices >= 5000 && storm.welcomed === storm.devices && storm.elapsedMs <= 5000 : null,
    },
    {
      name: 'cluster',
      target: 'CPU µs per delivered message over Redis (gateway + Redis) <= 1.5x the embedded node; 0 lost everywhere',
      measured:
        embeddedCpu && redisCpu
          ? `${Math.round(redisCpu)} vs ${Math.round(embeddedCpu)} µs (${(redisCpu / embeddedCpu).toFixed(2)}x); lost ${clusterLost.map((n) => n ?? '—').join(' / ')}`
          : 'not run',
      met: embeddedCpu && redisCpu ? redisCpu <= 1.5 * embeddedCpu && clusterLost.every((n) => n === 0) : null,
    },
  ];
}
