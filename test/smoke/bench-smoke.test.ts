// The bench's smoke run (`npm run bench:smoke`, after `npm test` in .ci/run, so its load never runs beside the timing-sensitive tests): `npm run bench -- --quick --duration 2s` against our gateway only
// writes a results file a reader (or CI) can rely on, and ours loses nothing it acked, overloaded included.
// It runs dist/bench/run.js directly: `npm run bench` rebuilds dist, which would pull
// the compiled tests from under the other test files running next to this one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CapacityResult, CommandsResult, FixedRateResult, OverloadResult, Percentiles, SaturationResult, StormResult } from '../../bench/load/task.js';
import type { BenchReport } from '../../bench/report/results.js';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function assertPercentiles(p: Percentiles, what: string): void {
  assert.ok(p.count > 0, `${what}: samples`);
  for (const key of ['p50', 'p90', 'p99', 'max'] as const) assert.equal(typeof p[key], 'number', `${what}.${key}`);
  assert.ok(p.p50 <= p.p99 && p.p99 <= p.max, `${what}: ordered`);
}

function resultOf<T>(report: BenchReport, scenario: keyof BenchReport['results']): T {
  const outcome = report.results[scenario]?.ours;
  assert.ok(outcome && 'result' in outcome, `${scenario}: ${JSON.stringify(outcome)}`);
  assert.equal(typeof outcome.cpu.serverPercent, 'number');
  return outcome.result as T;
}

test('bench --quick against ours writes results JSON with every scenario and loses nothing it acked', { timeout: 120_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const run = await runBench(['--quick', '--duration', '2s', '--only', 'ours', '--scenarios', 'saturation,saturation-durable,fixed-rate,capacity,overload,commands,storm', '--out', out]);
  assert.equal(run.code, 0, run.stderr);

  const files = readdirSync(out).filter((name) => name.endsWith('.json'));
  assert.equal(files.length, 1);
  const report = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as BenchReport;
  assert.equal(report.version, 2);
  assert.equal(report.mode, 'quick');
  assert.ok(report.machine.nproc >= 1 && report.machine.node.startsWith('v'));
  assert.equal(typeof report.cpuSplit, 'string');
  assert.deepEqual(report.peers.map((peer) => peer.name), ['ours']);

  const saturation = resultOf<SaturationResult>(report, 'saturation');
  assert.ok(saturation.delivered > 0 && saturation.deliveredPerSec > 0);
  assert.equal(saturation.lost, 0, 'acked but never delivered');
  assert.ok(saturation.acked <= saturation.sent);
  assertPercentiles(saturation.latencyMs, 'saturation latency');

  const fixed = resultOf<FixedRateResult>(report, 'fixed-rate');
  assert.equal(fixed.rate, 10_000);
  assert.equal(fixed.lost, 0);
  assertPercentiles(fixed.latencyMs, 'fixed-rate latency');
  assertPercentiles(fixed.scheduledLatencyMs, 'fixed-rate latency from the schedule');
  assert.ok(fixed.serverCpuUsPerMessage > 0, `server CPU per message after the warm-up: ${fixed.serverCpuUsPerMessage}`);

  const capacity = resultOf<CapacityResult>(report, 'capacity');
  assert.ok(capacity.steps.length >= 1, 'at least one step');
  assert.equal(capacity.steps[0]!.rate, report.plan.capacity.startRate);
  assert.equal(typeof capacity.capacity, 'number');
  assert.equal(capacity.warmup.rate, report.plan.capacity.startRate, 'the warm-up runs at the first rate');
  for (const [i, step] of capacity.steps.entries()) {
    assert.equal(step.passed, step.failed.length === 0, `step ${step.rate}: passed iff no failure reasons`);
    assert.ok(step.passed || i === capacity.steps.length - 1, 'the climb stops at the first failed step');
    assert.ok(step.sent > 0 && Number.isFinite(step.rssSlopeMiBPerSec) && step.rssEndKiB > 0, `step ${step.rate}: sent and RSS sampled`);
    assert.equal(step.lost, 0, `step ${step.rate}: acked but never delivered`);
    assert.ok(step.discarded.length <= report.plan.capacity.generatorRetries, `step ${step.rate}: at most generatorRetries attempts set aside`);
    for (const attempt of step.discarded) assert.ok(attempt.failed.length > 0 && attempt.sendLagP99Ms > report.plan.capacity.generatorLagMs, `step ${step.rate}: only generator-limited failures are measured again`);
  }
  assert.equal(capacity.capacity, capacity.steps.filter((step) => step.passed).at(-1)?.rate ?? 0);

  // Overload offers 2x the capacity just measured; a machine too slow for the first step has none to double.
  const overload = report.results.overload?.ours;
  if (capacity.capacity > 0) {
    const o = resultOf<OverloadResult>(report, 'overload');
    assert.equal(o.rate, 2 * capacity.capacity);
    assert.equal(o.lost, 0, 'acked under overload but never delivered');
    assert.equal(typeof o.pushedBack, 'boolean');
    assert.ok(o.ackedShare >= 0 && o.ackedShare <= 1 && o.deviceBacklogKiB >= 0, 'the pushback signals');
    assert.ok(o.peakRssKiB > 0 && Number.isFinite(o.rssSlopeMiBPerSec));
    assert.ok(o.acked + o.unacked + Object.values(o.refused).reduce((a, b) => a + b, 0) === o.sent, 'every message acked, refused or still unacked');
  } else {
    assert.ok(overload && 'skipped' in overload && /capacity/.test(overload.skipped), `overload without a capacity: ${JSON.stringify(overload)}`);
    t.diagnostic('ours passed no capacity step on this machine, so overload was skipped');
  }

  const commands = resultOf<CommandsResult>(report, 'commands');
  assert.ok(commands.succeeded > 0);
  assertPercentiles(commands.latencyMs, 'command round trip');

  const storm = resultOf<StormResult>(report, 'storm');
  assert.equal(storm.welcomed + Object.values(storm.failures).reduce((a, b) => a + b, 0), storm.devices);

  const durable = resultOf<SaturationResult>(report, 'saturation-durable');
  assert.ok(durable.delivered > 0);
  assert.equal(durable.lost, 0, 'acked but never delivered to the persistent session');

  assert.deepEqual(report.targets.map((target) => target.name), ['saturation', 'saturation-durable', 'fixed-rate', 'memory', 'commands', 'storm', 'cluster', 'capacity', 'overload', 'cpu-per-message']);
  assert.equal(report.targets.find((target) => target.name === 'memory')?.met, null, 'memory was not run');
  assert.match(run.stdout, /\| system \| transport \|/, 'the table is printed');
  assert.match(run.stdout, /\| system \| capacity msg\/s \|/, 'the capacity table is printed');
});
