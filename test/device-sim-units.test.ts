import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, RECONNECT_BACKOFF } from '../sdk/backoff.js';
import { LatencyHistogram } from '../device-sim/latency-histogram.js';
import { parseDuration, parseProbability, parseRate } from '../device-sim/parse-units.js';
import { createRng } from '../device-sim/rng.js';
import { Scheduler, Task } from '../device-sim/scheduler.js';
import { FleetStats, summarize } from '../device-sim/stats.js';

test('rates parse as events per second: 1/s, 200/s, 30/min', () => {
  assert.deepEqual(parseRate('1/s'), { ok: true, value: 1 });
  assert.deepEqual(parseRate('200/s'), { ok: true, value: 200 });
  assert.deepEqual(parseRate('30/min'), { ok: true, value: 0.5 });
  assert.deepEqual(parseRate('0.5/s'), { ok: true, value: 0.5 });
  for (const bad of ['', 'fast', '1', '0/s', '-1/s', '1/day']) {
    const parsed = parseRate(bad);
    assert.equal(parsed.ok ? 'ok' : parsed.error.code, 'bad_option', bad);
  }
});

test('durations parse to milliseconds: 500ms, 60s, 5m, 1h, bare seconds', () => {
  assert.deepEqual(parseDuration('500ms'), { ok: true, value: 500 });
  assert.deepEqual(parseDuration('60s'), { ok: true, value: 60_000 });
  assert.deepEqual(parseDuration('5m'), { ok: true, value: 300_000 });
  assert.deepEqual(parseDuration('1h'), { ok: true, value: 3_600_000 });
  assert.deepEqual(parseDuration('2'), { ok: true, value: 2000 });
  for (const bad of ['', 'soon', '0s', '-5s', '5 years']) assert.equal(parseDuration(bad).ok, false, bad);
  assert.equal(parseProbability('0.01').ok, true);
  assert.equal(parseProbability('1.5').ok, false);
});

test('backoff: full jitter within [0, min(cap, base*2^attempt))', () => {
  const rng = createRng(1);
  for (let attempt = 0; attempt < 20; attempt++) {
    const ceiling = Math.min(RECONNECT_BACKOFF.capMs, RECONNECT_BACKOFF.baseMs * 2 ** attempt);
    let max = 0;
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(attempt, RECONNECT_BACKOFF, rng.next);
      assert.ok(delay >= 0 && delay < ceiling);
      max = Math.max(max, delay);
    }
    assert.ok(max > ceiling * 0.8, 'spreads over the whole window');
  }
});

test('latency histogram: percentiles within a few percent, in constant memory', () => {
  const histogram = new LatencyHistogram();
  assert.equal(histogram.quantile(0.5), null);
  for (let i = 1; i <= 10_000; i++) histogram.record(i / 10); // 0.1 .. 1000 ms, uniform
  const p50 = histogram.quantile(0.5)!;
  const p99 = histogram.quantile(0.99)!;
  assert.ok(Math.abs(p50 - 500) / 500 < 0.07, `p50 ${p50}`);
  assert.ok(Math.abs(p99 - 990) / 990 < 0.07, `p99 ${p99}`);
  histogram.record(0);
  histogram.record(1e9); // absurd values are clamped into the last bucket, not lost
  assert.equal(histogram.count, 10_002);
});

test('scheduler runs tasks in due order, moves and cancels them', async () => {
  const scheduler = new Scheduler();
  const ran: string[] = [];
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const a = new Task(() => ran.push('a'));
  const b = new Task(() => ran.push('b'));
  const c = new Task(() => ran.push('c'));
  const last = new Task(() => resolveDone());
  const now = Date.now();
  scheduler.at(a, now + 30);
  scheduler.at(b, now + 10);
  scheduler.at(c, now + 20);
  scheduler.at(a, now + 5); // moved earlier
  scheduler.cancel(c);
  scheduler.at(last, now + 40);
  await done;
  assert.deepEqual(ran, ['a', 'b']);
  assert.equal(scheduler.size, 0);
  assert.equal(c.scheduled, false);
  scheduler.stop();
});

test('scheduler keeps heap order under many random reschedules', async () => {
  const scheduler = new Scheduler();
  const rng = createRng(2);
  const order: number[] = [];
  const tasks = Array.from({ length: 500 }, () => new Task(() => order.push(Date.now())));
  const base = Date.now() + 20;
  for (const task of tasks) scheduler.at(task, base + Math.floor(rng.next() * 50));
  for (let i = 0; i < 1000; i++) scheduler.at(tasks[Math.floor(rng.next() * 500)]!, base + Math.floor(rng.next() * 50));
  for (let i = 0; i < 100; i++) scheduler.cancel(tasks[i]!);
  await new Promise<void>((resolve) => scheduler.at(new Task(resolve), base + 100));
  assert.equal(order.length, 400);
  for (let i = 1; i < order.length; i++) assert.ok(order[i]! >= order[i - 1]!);
});

test('the --json summary has the documented fields', () => {
  const stats = new FleetStats();
  stats.target = 3;
  stats.sent = 10;
  stats.countError('invalid_telemetry');
  stats.countError('invalid_telemetry');
  stats.recordAck(2);
  const summary = JSON.parse(JSON.stringify(summarize(stats, 0, 7))) as Record<string, unknown>;
  for (const key of ['devices', 'sent', 'acked', 'errors', 'reconnects', 'commands', 'ackLatencyMs']) {
    assert.ok(key in summary, key);
  }
  assert.deepEqual(summary.errors, { invalid_telemetry: 2 });
  assert.equal(summary.devices, 3);
  const latency = summary.ackLatencyMs as Record<string, number>;
  assert.ok(latency.p50! > 1.8 && latency.p50! < 2.2);
  assert.equal(typeof latency.p99, 'number');
});
