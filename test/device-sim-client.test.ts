// The simulator's client loop (Fleet and SimDevice, in this process) against a
// real gateway on ephemeral ports, with an MQTT subscriber counting what came
// out of the broker. test/device-sim-gateway.test.ts runs both as CLIs and
// covers the resend of unacked readings across a gateway restart.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Fleet, type FleetOptions } from '../device-sim/fleet.js';
import { summarize } from '../device-sim/stats.js';
import { connectBackend } from './helpers/backend.js';
import { countMqtt, type MqttCounts } from './helpers/count-mqtt.js';
import { provision, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

interface Run {
  gw: TestGateway;
  mqtt: MqttCounts;
  fleet: Fleet;
}

/**
 * Provisions `devices` ([id, model], or [id, model, token] to use a token the
 * gateway never issued) on a fresh gateway, counts its MQTT output, and starts the fleet.
 */
async function startFleet(t: TestContext, devices: Array<[string, string, string?]>, overrides: Partial<FleetOptions> = {}): Promise<Run> {
  const gw = await startTestGateway();
  const added = await gw.users.add('watcher', 'watcher-pw', [], ['devices/#', 'gateway/#']);
  if (!added.ok) throw new Error(`users.add: ${added.error.code}`);
  const mqtt = await countMqtt(gw.addresses.mqtt, 'watcher', 'watcher-pw');
  const fleet = new Fleet({
    url: gw.addresses.ws,
    // The simulator's own flag for the dev gateway's self-signed certificate.
    insecure: true,
    devices: await Promise.all(devices.map(async ([device, model, token]) => ({ device, model, token: token ?? (await provision(gw, device, model)) }))),
    ratePerSec: 20,
    rampPerSec: 1000,
    seed: 1,
    invalidRate: 0,
    dropRate: 0,
    ...overrides,
  });
  // One hook, in this order: devices left running would retry the closed gateway forever.
  t.after(async () => {
    await fleet.stop(0);
    await mqtt.client.endAsync(true);
    await gw.close();
  });
  fleet.start();
  return { gw, mqtt, fleet };
}

function envSensors(count: number): Array<[string, string]> {
  return Array.from({ length: count }, (_, i) => [`env-${i}`, 'env-sensor']);
}

test('every device connects and every reading it sends is acked once and published on MQTT', async (t) => {
  const { fleet, mqtt } = await startFleet(t, [...envSensors(3), ['meter-0', 'meter'], ['meter-1', 'meter'], ['meter-2', 'meter']]);
  await waitFor('all connected', () => fleet.stats.connected === 6);
  await waitFor('60 acks', () => fleet.stats.acked >= 60);
  await fleet.stop(2000);
  const summary = summarize(fleet.stats, fleet.unacked, 1);
  assert.equal(summary.sent, summary.acked);
  assert.equal(summary.resent, 0, 'no resends on a healthy link');
  assert.deepEqual(summary.errors, {});
  assert.ok(summary.ackLatencyMs.p50 !== null && summary.ackLatencyMs.p99 !== null);
  await waitFor('every acked reading on MQTT', () => mqtt.telemetry.size >= summary.acked);
  assert.equal(mqtt.telemetry.size, summary.acked);
  assert.equal(new Set([...mqtt.telemetry].map((key) => key.split('/')[0])).size, 6, 'from every device');
});

test('--invalid-rate readings are counted as invalid_telemetry, dead-lettered once and not resent', async (t) => {
  const { fleet, mqtt } = await startFleet(t, envSensors(5), { invalidRate: 0.2 });
  await waitFor('200 readings', () => fleet.stats.sent >= 200);
  await fleet.stop(2000);
  const summary = summarize(fleet.stats, fleet.unacked, 1);
  const invalid = summary.errors.invalid_telemetry ?? 0;
  assert.ok(invalid > 10, `some invalid (${invalid})`);
  assert.equal(summary.rejected, invalid);
  assert.equal(summary.sent, summary.acked + summary.rejected);
  assert.equal(summary.resent, 0, 'rejected readings are not resent');
  await waitFor('dead letters and telemetry', () => mqtt.deadLetters.length >= invalid && mqtt.telemetry.size >= summary.acked);
  // One dead letter per rejected reading: a resend would have made a second.
  assert.equal(mqtt.deadLetters.length, invalid);
  assert.ok(mqtt.deadLetters.every((letter) => letter.code === 'invalid_telemetry'));
  assert.equal(mqtt.telemetry.size, summary.acked);
});

test('--drop-rate disconnects devices at random and every acked reading still reaches MQTT', async (t) => {
  const { fleet, mqtt } = await startFleet(t, envSensors(5), { dropRate: 0.05 });
  await waitFor('drops and reconnects', () => fleet.stats.injectedDrops >= 3 && fleet.stats.reconnects >= 3, 30_000);
  await fleet.stop(10_000);
  const summary = summarize(fleet.stats, fleet.unacked, 1);
  assert.equal(summary.unacked, 0);
  assert.equal(summary.sent, summary.acked);
  await waitFor('every acked reading on MQTT', () => mqtt.telemetry.size >= summary.acked);
  // Distinct ids: a reading resent after a drop is still one reading.
  assert.equal(mqtt.telemetry.size, summary.acked);
});

test('commands from an MQTT backend are answered by the simulated device, across a reboot', async (t) => {
  const { gw, fleet } = await startFleet(t, envSensors(1), { ratePerSec: 1 });
  const backend = await connectBackend(gw, { pub: ['devices/+/commands'], sub: ['devices/+/commands/+/status'] });
  t.after(() => backend.close());
  await backend.subscribe('devices/+/commands/+/status');
  const results = new Map<string, Record<string, unknown>>();
  backend.client.on('message', (_topic, payload) => {
    const event = JSON.parse(payload.toString()) as Record<string, unknown>;
    if (event.status !== 'accepted' && event.status !== 'delivered') results.set(event.id as string, event);
  });
  await waitFor('connected', () => fleet.stats.connected === 1);
  const command = (id: string, name: string, params: Record<string, unknown>): Promise<unknown> =>
    backend.publish('devices/env-0/commands', { id, name, params });

  await command('c-ping', 'ping', {});
  await command('c-interval', 'set_interval', { seconds: 5 });
  await command('c-calibrate', 'calibrate', { offset: 1.5 });
  await waitFor('3 results', () => results.size === 3);
  for (const [id, event] of results) assert.equal(event.status, 'succeeded', `${id}: ${JSON.stringify(event)}`);
  assert.equal(typeof (results.get('c-ping')!.result as { uptimeSec: unknown }).uptimeSec, 'number');
  assert.deepEqual(results.get('c-interval')!.result, { seconds: 5 });
  assert.deepEqual(results.get('c-calibrate')!.result, { offset: 1.5 });

  // The device answers, goes offline, and comes back on its own with its uptime restarted.
  await command('c-reboot', 'reboot', { delayMs: 300 });
  await waitFor('reboot result', () => results.has('c-reboot'));
  assert.equal(results.get('c-reboot')!.status, 'succeeded');
  await waitFor('back online after the reboot', () => fleet.stats.reconnects === 1 && fleet.stats.connected === 1);
  await command('c-ping-2', 'ping', {});
  await waitFor('ping after reboot', () => results.has('c-ping-2'));
  assert.equal(results.get('c-ping-2')!.status, 'succeeded');
  assert.ok((results.get('c-ping-2')!.result as { uptimeSec: number }).uptimeSec < 2, 'uptime restarted');
  await fleet.stop(1000);
  assert.equal(fleet.stats.commands, 5);
});

test('a refused token (4401) stops that device for good instead of reconnecting', async (t) => {
  const { fleet } = await startFleet(t, [...envSensors(2), ['intruder', 'env-sensor', 'not-a-token']]);
  await waitFor('the intruder refused', () => fleet.stats.fatal === 1);
  // A retry would come within the first reconnect backoff (under 500 ms). Two
  // devices reading at 20/s need at least a second for 40 more acks, so by then
  // a reconnect loop would have shown.
  const ackedAtRefusal = fleet.stats.acked;
  await waitFor('40 more acks from the good devices', () => fleet.stats.acked >= ackedAtRefusal + 40);
  await fleet.stop(1000);
  assert.equal(fleet.stats.fatal, 1);
  assert.equal(fleet.stats.errors.get('unauthorized'), 1, 'tried once, not in a loop');
  assert.equal(fleet.stats.reconnects, 0);
});
