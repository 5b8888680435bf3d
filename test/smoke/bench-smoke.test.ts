// The bench's smoke run (`npm run bench:smoke`, after `npm test` in .ci/run, so its load never runs beside the timing-sensitive tests): `npm run bench -- --quick --duration 2s` against our gateway only
// writes a results file a reader (or CI) can rely on, and ours loses nothing it acked.
// It runs dist/bench/run.js directly: `npm run bench` rebuilds dist, which would pull
// the compiled tests from under the other test files running next to this one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CommandsResult, FixedRateResult, Percentiles, SaturationResult, StormResult } from '../../bench/load/task.js';
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
  const run = await runBench(['--quick', '--duration', '2s', '--only', 'ours', '--scenarios', 'saturation,saturation-durable,fixed-rate,commands,storm', '--out', out]);
  assert.equal(run.code, 0, run.stderr);

  const files = readdirSync(out).filter((name) => name.endsWith('.json'));
  assert.equal(files.length, 1);
  const report = JSON.parse(readFileSync(join(out, files[0]!), 'utf8')) as BenchReport;
  assert.equal(report.version, 1);
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

  const commands = resultOf<CommandsResult>(report, 'commands');
  assert.ok(commands.succeeded > 0);
  assertPercentiles(commands.latencyMs, 'command round trip');

  const storm = resultOf<StormResult>(report, 'storm');
  assert.equal(storm.welcomed + Object.values(storm.failures).reduce((a, b) => a + b, 0), storm.devices);

  const durable = resultOf<SaturationResult>(report, 'saturation-durable');
  assert.ok(durable.delivered > 0);
  assert.equal(durable.lost, 0, 'acked but never delivered to the persistent session');

  assert.deepEqual(report.targets.map((target) => target.name), ['saturation', 'saturation-durable', 'fixed-rate', 'memory', 'commands', 'storm', 'cluster']);
  assert.equal(report.targets.find((target) => target.name === 'memory')?.met, null, 'memory was not run');
  assert.match(run.stdout, /\| system \| transport \|/, 'the table is printed');
});
