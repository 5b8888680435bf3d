import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSensor, SIMULATED_MODELS } from '../device-sim/models/create-sensor.js';
import { listModelNames, SHIPPED_MODELS_DIR } from '../gateway/models/load-models.js';
import { createRng } from '../device-sim/rng.js';
import { compileSchemas } from './helpers/compile-schemas.js';

const telemetry = compileSchemas('telemetry');
const state = compileSchemas('state');
const START = Date.UTC(2024, 0, 1);

function series(model: string, seed: number, count: number, stepMs = 1000): Record<string, number>[] {
  const sensor = createSensor(model, createRng(seed))!;
  return Array.from({ length: count }, (_, i) => sensor.read(START + i * stepMs));
}

test('every model in schemas/models/ has a simulator', () => {
  assert.deepEqual([...SIMULATED_MODELS].sort(), listModelNames(SHIPPED_MODELS_DIR));
});

for (const model of SIMULATED_MODELS) {
  test(`${model}: two days of readings from many devices all validate against the shipped schema`, () => {
    const validate = telemetry.get(model)!;
    for (let seed = 1; seed <= 20; seed++) {
      // One reading a minute over two days: covers every hour of the daily profile.
      for (const reading of series(model, seed, 2 * 24 * 60, 60_000)) {
        assert.ok(validate(reading), `${model} seed ${seed}: ${JSON.stringify(reading)} ${JSON.stringify(validate.errors)}`);
      }
      for (const reading of series(model, seed, 600)) assert.ok(validate(reading));
    }
  });

  test(`${model}: --invalid-rate readings all fail the shipped schema`, () => {
    const validate = telemetry.get(model)!;
    const sensor = createSensor(model, createRng(7))!;
    for (let i = 0; i < 50; i++) {
      const reading = sensor.readInvalid(START + i * 1000);
      assert.equal(validate(reading), false, `${model}: ${JSON.stringify(reading)} should be invalid`);
    }
  });

  test(`${model}: the same seed gives the same series, another seed a different one`, () => {
    assert.deepEqual(series(model, 42, 500), series(model, 42, 500));
    assert.notDeepEqual(series(model, 42, 500), series(model, 43, 500));
  });

  test(`${model}: state frames validate against the shipped state schema`, () => {
    const sensor = createSensor(model, createRng(3))!;
    const frame = { firmware: 'device-sim-1.0.0', reportIntervalSec: 1, ...sensor.state() };
    assert.ok(state.get(model)!(frame), JSON.stringify(state.get(model)!.errors));
  });
}

test('env-sensor: humidity moves against temperature, and the battery only drains', () => {
  const readings = series('env-sensor', 5, 24 * 60, 60_000);
  assert.ok(correlation(readings.map((r) => r.temperature!), readings.map((r) => r.humidity!)) < -0.5);
  for (let i = 1; i < readings.length; i++) assert.ok(readings[i]!.battery! <= readings[i - 1]!.battery!);
  assert.ok(readings[0]!.battery! > readings.at(-1)!.battery!);
});

test('env-sensor: temperature follows a daily cycle', () => {
  const readings = series('env-sensor', 9, 24 * 60, 60_000);
  const temps = readings.map((r) => r.temperature!);
  assert.ok(Math.max(...temps) - Math.min(...temps) > 3, 'a day spans more than 3 degrees');
});

test('meter: energy never decreases, power stays within the schema range', () => {
  const readings = series('meter', 11, 24 * 60, 60_000);
  for (let i = 1; i < readings.length; i++) assert.ok(readings[i]!.energy! >= readings[i - 1]!.energy!);
  assert.ok(readings.at(-1)!.energy! > readings[0]!.energy!);
});

test('tracker: consecutive fixes are as far apart as the reported speed allows', () => {
  const readings = series('tracker', 13, 3600);
  for (let i = 1; i < readings.length; i++) {
    const km = distanceKm(readings[i - 1]!, readings[i]!);
    const maxKm = (Math.max(readings[i]!.speed!, readings[i - 1]!.speed!) / 3600) * 1.1 + 0.001;
    assert.ok(km <= maxKm, `step ${i}: moved ${km} km at ${readings[i]!.speed} km/h`);
  }
  assert.ok(readings.some((r) => r.speed! > 10), 'it drives at some point');
});

test('model commands: calibrate shifts temperature, set_relay off stops power, locate returns a fix', () => {
  const env = createSensor('env-sensor', createRng(1))!;
  const same = createSensor('env-sensor', createRng(1))!;
  assert.deepEqual(env.command('calibrate', { offset: 5 }), { ok: true, result: { offset: 5 } });
  assert.ok(Math.abs(env.read(START).temperature! - same.read(START).temperature! - 5) < 0.02);
  assert.equal(env.command('calibrate', { offset: 99 })?.ok, false);
  const meter = createSensor('meter', createRng(1))!;
  assert.deepEqual(meter.command('set_relay', { on: false }), { ok: true, result: { relay: 'off' } });
  assert.equal(meter.read(START).power, 0);
  const tracker = createSensor('tracker', createRng(1))!;
  const located = tracker.command('locate', {});
  assert.ok(located?.ok && typeof located.result.lat === 'number');
  assert.equal(tracker.command('set_relay', { on: true }), undefined, 'not a tracker command');
});

function correlation(xs: number[], ys: number[]): number {
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function distanceKm(a: Record<string, number>, b: Record<string, number>): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat! - a.lat!) * rad;
  const dLon = (b.lon! - a.lon!) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat! * rad) * Math.cos(b.lat! * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}
