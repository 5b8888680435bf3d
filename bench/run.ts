/**
 * `npm run bench`: runs every scenario against ours and its peers, one system at a time,
 * prints the tables and writes bench/results/<timestamp>.json.
 *
 * CPU split: this orchestrator pins itself (and so the load generator it forks) to one
 * core and starts every server with `taskset -c 0`, so load and server never share a core.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInGenerator } from './load/fork-generator.js';
import type { SaturationResult } from './load/task.js';
import { parseOptions, SCENARIOS } from './options.js';
import { REPO_ROOT } from './paths.js';
import { aedesWs } from './peers/aedes-ws.js';
import { gatewayPeer, SATURATION_LIMITS, STORM_LIMITS } from './peers/gateway.js';
import { clusterGatewayPeer } from './peers/gateway-cluster.js';
import { mosquitto, mosquittoTls, mosquittoUnqueued } from './peers/mosquitto.js';
import { nodeRed } from './peers/node-red.js';
import type { Peer, ScenarioName } from './peers/peer.js';
import { hasTaskset, LOAD_CORE, SERVER_CORE } from './peers/process.js';
import { wsCeiling, wssCeiling } from './peers/ws-ceiling.js';
import { devicesFor, generatorTimeoutMs, measuredCapacity, planFor, taskFor } from './plan.js';
import { describeMachine } from './report/machine.js';
import type { BenchReport, Results } from './report/results.js';
import { ratiosOf } from './report/ratios.js';
import { formatReport } from './report/table.js';
import { checkTargets } from './report/targets.js';

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const plan = planFor(options);
  const startedAt = new Date();
  const ours = gatewayPeer();
  const oursOffload = gatewayPeer(true);
  const all: Peer[] = [ours, oursOffload, clusterGatewayPeer(1), clusterGatewayPeer(2), wsCeiling, wssCeiling, mosquitto, mosquittoUnqueued, mosquittoTls, aedesWs, nodeRed];
  const scenarios = SCENARIOS.filter((s) => !options.scenarios || options.scenarios.includes(s));
  const runs = (peer: Peer, scenario: ScenarioName): boolean => peer.scenarios.includes(scenario) && !(options.quick && peer.fullOnly.includes(scenario));
  // A system with nothing to run in this mode (--quick leaves some out) is not in the report.
  const peers = all.filter((peer) => (!options.only || options.only.includes(peer.name)) && scenarios.some((scenario) => runs(peer, scenario)));

  const cpuSplit = pinSelf();
  log(`bench ${options.quick ? '--quick' : 'full'}: ${peers.map((p) => p.name).join(', ')}; ${cpuSplit}`);

  const results: Results = {};
  const skipped = new Map(peers.map((peer) => [peer.name, peer.unavailable()]));
  try {
    for (const scenario of scenarios) {
      results[scenario] = {};
      for (const peer of peers) {
        if (!runs(peer, scenario)) continue;
        const reason = skipped.get(peer.name);
        if (reason) {
          results[scenario]![peer.name] = { skipped: reason };
          continue;
        }
        const measured = scenario === 'overload' ? measuredCapacity(results, peer.name) : undefined;
        if (measured && 'skipped' in measured) {
          results[scenario]![peer.name] = measured;
          log(`${scenario} · ${peer.name}: skipped, ${measured.skipped}`);
          continue;
        }
        log(`${scenario} · ${peer.name}`);
        const started = Date.now();
        const running = await peer.start({ devices: devicesFor(plan, scenario), scenario }).catch((err: Error) => err);
        if (running instanceof Error) {
          results[scenario]![peer.name] = { error: `start failed: ${running.message}` };
          continue;
        }
        try {
          const { result, cpu, peakRssKiB } = await runInGenerator(taskFor(plan, scenario, running, measured?.capacity), running, generatorTimeoutMs(plan, scenario));
          results[scenario]![peer.name] = { result, cpu, peakRssKiB };
          log(`  ${JSON.stringify(result).slice(0, 400)}`);
          const perMessage = 'serverCpuUsPerMessage' in result ? `, ${(result as SaturationResult).serverCpuUsPerMessage} µs server CPU per delivered message over the window` : '';
          log(`  cpu: server ${cpu.serverPercent} % (${cpu.serverSeconds} s${perMessage}), peak RSS ${Math.round(peakRssKiB / 1024)} MiB, load generator ${cpu.loadPercent} % (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        } catch (err) {
          results[scenario]![peer.name] = { error: (err as Error).message };
          log(`  failed: ${(err as Error).message.split('\n')[0]}`);
        } finally {
          await running.stop();
        }
      }
    }
  } finally {
    ours.cleanup();
    oursOffload.cleanup();
  }

  const report: BenchReport = {
    version: 2,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    machine: describeMachine(),
    cpuSplit,
    plan,
    gatewayConfig: { ...SATURATION_LIMITS, ...STORM_LIMITS },
    peers: peers.map((peer) => ({ name: peer.name, label: peer.label, transport: peer.transport, ...(skipped.get(peer.name) ? { skipped: skipped.get(peer.name)! } : {}) })),
    results,
    targets: checkTargets(results),
    ratios: ratiosOf(results),
  };
  const dir = options.outDir ?? join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${formatReport(report)}\n\nResults: ${file}\n`);
}

function pinSelf(): string {
  if (!hasTaskset()) return 'not pinned (taskset missing): load generator and servers share all cores';
  spawnSync('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)]);
  return `servers pinned to core ${SERVER_CORE} (taskset -c ${SERVER_CORE}); orchestrator and load generator pinned to core ${LOAD_CORE}`;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

await main();
