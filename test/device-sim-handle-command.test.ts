// The simulated device's answers to commands the gateway never lets through
// (it refuses unknown names with invalid_command and params that break the
// model's command schema before delivery), so no server can show them: a
// device must still answer them with a coded error and change nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handleCommand, type CommandTarget } from '../device-sim/handle-command.js';
import { createSensor } from '../device-sim/models/create-sensor.js';
import { createRng } from '../device-sim/rng.js';

/** A command target that records what the handler asked of it. */
function target(model = 'env-sensor'): CommandTarget & { reboots: number[]; intervals: number[] } {
  const reboots: number[] = [];
  const intervals: number[] = [];
  return {
    sensor: createSensor(model, createRng(1))!,
    uptimeMs: () => 12_345,
    reboot: (delayMs) => reboots.push(delayMs),
    setIntervalSeconds: (seconds) => intervals.push(seconds),
    reboots,
    intervals,
  };
}

test('a command the model does not have is answered unknown_command', () => {
  const device = target('env-sensor');
  const outcome = handleCommand(device, 'set_relay', { on: true }); // a meter command
  assert.equal(outcome.ok, false);
  assert.equal(!outcome.ok && outcome.error.code, 'unknown_command');
  assert.equal(handleCommand(device, 'self_destruct', {}).ok, false);
});

test('bad params are answered invalid_params and change nothing', () => {
  const device = target('env-sensor');
  for (const [name, params] of [
    ['set_interval', {}],
    ['set_interval', { seconds: 0 }],
    ['set_interval', { seconds: 1.5 }],
    ['reboot', { delayMs: -1 }],
    ['reboot', { delayMs: 60_001 }],
    ['calibrate', { offset: 'up' }],
  ] as const) {
    const outcome = handleCommand(device, name, params);
    assert.equal(!outcome.ok && outcome.error.code, 'invalid_params', `${name} ${JSON.stringify(params)}`);
  }
  assert.deepEqual(device.reboots, []);
  assert.deepEqual(device.intervals, []);
  assert.deepEqual(device.sensor.state(), { calibrationOffset: 0 });
});

test('valid params are applied: set_interval, reboot (3 s by default), ping reports whole seconds of uptime', () => {
  const device = target('env-sensor');
  assert.deepEqual(handleCommand(device, 'set_interval', { seconds: 5 }), { ok: true, result: { seconds: 5 } });
  assert.deepEqual(handleCommand(device, 'reboot', {}), { ok: true, result: { rebooting: true, delayMs: 3000 } });
  assert.deepEqual(handleCommand(device, 'ping', {}), { ok: true, result: { uptimeSec: 12 } });
  assert.deepEqual(device.intervals, [5]);
  assert.deepEqual(device.reboots, [3000]);
});
