import type { CapacityResult, CommandsResult, FixedRateResult, MemoryResult, OverloadResult, SaturationResult, StormResult } from '../load/task.js';
import { figureOf } from './ratios.js';
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
    const perMessage = (outcome.result as SaturationResult).serverCpuUsPerMessage;
    return Number.isFinite(perMessage) ? perMessage : undefined;
  };
  const embeddedCpu = perMessage('ours');
  const redisCpu = perMessage('ours-redis');
  const clusterLost = Object.values(results.cluster ?? {}).map((o) => ('result' in o ? (o.result as SaturationResult).lost : undefined));
  const capacity = (name: string): number | undefined => ok<CapacityResult>(results.capacity?.[name])?.capacity;
  const [oursCapacity, tlsCapacity] = [capacity('ours'), capacity('mosquitto-tls')];
  const overload = results.overload?.ours;
  const overloaded = ok<OverloadResult>(overload);
  const cpu = (name: string): number | undefined => figureOf(results['fixed-rate']?.[name], (f: FixedRateResult) => f.serverCpuUsPerMessage);
  const [oursCpu, ceilingCpu, tlsCpu] = [cpu('ours'), cpu('wss-ceiling'), cpu('mosquitto-tls')];
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
    {
      name: 'capacity',
      target: '>= 1.25x the capacity of Mosquitto over TLS (open loop, p99 <= 50 ms from the schedule)',
      measured: oursCapacity !== undefined && tlsCapacity !== undefined ? `${oursCapacity} vs ${tlsCapacity} msg/s${tlsCapacity > 0 ? ` (${(oursCapacity / tlsCapacity).toFixed(2)}x)` : ''}` : 'not run',
      met: oursCapacity !== undefined && tlsCapacity !== undefined ? oursCapacity > 0 && oursCapacity >= 1.25 * tlsCapacity : null,
    },
    {
      name: 'overload',
      target: 'at 2x its capacity: 0 lost, RSS slope <= 2 MiB/s',
      measured: overloaded
        ? `${overloaded.rate} msg/s offered: ${overloaded.lost} lost, RSS ${overloaded.rssSlopeMiBPerSec} MiB/s, acked ${overloaded.ackedPerSec}/s (${overloaded.pushedBack ? 'pushed back' : 'no pushback'})`
        : overload && 'skipped' in overload ? `skipped: ${overload.skipped}` : 'not run',
      met: overloaded ? overloaded.lost === 0 && overloaded.rssSlopeMiBPerSec <= 2 : null,
    },
    {
      name: 'cpu-per-message',
      target: 'server CPU µs per delivered message at 10k msg/s <= 1.25x the TLS ceiling and <= Mosquitto over TLS',
      measured: oursCpu && ceilingCpu && tlsCpu ? `${oursCpu} vs ${ceilingCpu} µs (${(oursCpu / ceilingCpu).toFixed(2)}x) and ${tlsCpu} µs (${(oursCpu / tlsCpu).toFixed(2)}x)` : 'not run',
      met: oursCpu && ceilingCpu && tlsCpu ? oursCpu <= 1.25 * ceilingCpu && oursCpu <= tlsCpu : null,
    },
  ];
}
