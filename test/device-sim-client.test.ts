import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fleet, type FleetOptions } from '../device-sim/fleet.js';
import { summarize } from '../device-sim/stats.js';
import { FakeGateway, fakeIdentities, waitFor } from './helpers/fake-gateway.js';

// The simulator's client loop against a minimal protocol-v1 server started in
// the test (real sockets). test/device-sim-gateway.test.ts repeats the key
// cases against the real gateway.

function fleetOptions(gateway: FakeGateway, overrides: Partial<FleetOptions>): FleetOptions {
  return {
    url: gateway.url,
    insecure: false,
    devices: fakeIdentities(5),
    ratePerSec: 20,
    rampPerSec: 1000,
    seed: 1,
    invalidRate: 0,
    dropRate: 0,
    ...overrides,
  };
}

test('every device connects and every reading it sends is acked', async (t) => {
  const devices = [...fakeIdentities(3, 'env-sensor'), ...fakeIdentities(3, 'meter').map((d) => ({ ...d, device: `m${d.device}`, token: `m${d.token}` }))];
  const gateway = new FakeGateway(devices);
  await gateway.start();
  t.after(() => gateway.stop());
  const fleet = new Fleet(fleetOptions(gateway, { devices }));
  fleet.start();
  await waitFor('all connected', () => fleet.stats.connected === 6);
  await waitFor('60 acks', () => fleet.stats.acked >= 60);
  await fleet.stop(2000);
  const summary = summarize(fleet.stats, fleet.unacked, 1);
  assert.equal(summary.sent, summary.acked);
  assert.equal(summary.sent, gateway.received.length, 'no resends on a healthy link');
  assert.equal(summary.acked, gateway.acked.size);
  assert.deepEqual(summary.errors, {});
  assert.ok(summary.ackLatencyMs.p50 !== null && summary.ackLatencyMs.p99 !== null);
});

test('after a gateway restart devices reconnect and resend only what was never acked, with the same ids', async (t) => {
  const gateway = new FakeGateway(fakeIdentities(4));
  await gateway.start();
  t.after(() => gateway.stop());
  const fleet = new Fleet(fleetOptions(gateway, { devices: fakeIdentities(4) }));
  fleet.start();
  await waitFor('some acks', () => fleet.stats.acked >= 20);
  gateway.holdAcks = true;
  const heldFrom = gateway.received.length;
  await waitFor('unacked readings', () => fleet.unacked >= 8);
  const ackedBefore = new Set(gateway.acked);
  const unackedBefore = gateway.received.slice(heldFrom);
  await gateway.stop();
  const receivedBeforeRestart = gateway.received.length;
  gateway.holdAcks = false;
  await gateway.start();
  await waitFor('reconnected', () => fleet.stats.reconnects >= 4 && fleet.stats.connected === 4, 20_000);
  await fleet.stop(5000);
  const summary = summarize(fleet.stats, fleet.unacked, 1);
  const afterRestart = gateway.received.slice(receivedBeforeRestart);
  for (const key of unackedBefore) assert.ok(gateway.acked.has(key), `${key} was resent and acked`);
  for (const key of afterRestart) assert.ok(!ackedBefore.has(key), `${key} was acked before and must not be resent`);
  assert.equal(summary.unacked, 0);
  assert.equal(summary.sent, summary.acked);
  assert.equal(summary.acked, gateway.acked.size, 'every distinct reading acked exactly once in the counts');
  assert.ok(summary.resent >= unackedBefore.length);
  assert.equal(summary.errors.shutting_down, 4);
});

test('--invalid-rate readings come back as invalid_telemetry and are not resent', async (t) => {
  const gateway = new FakeGateway(fakeIdentities(5));
  await gateway.start();
  t.after(() => gateway.stop());
  const fleet = new Fleet(fleetOptions(gateway, { invalidRate: 0.2 }));
  fleet.start();
  await waitFor('200 readings', () => fleet.stats.sent >= 200);
  await fleet.stop(2000);
  const summary = summarize(fleet.stats, fleet.unacked, 1);
  const invalid = summary.errors.invalid_telemetry ?? 0;
  assert.ok(invalid > 10, `some invalid (${invalid})`);
  assert.equal(summary.rejected, invalid);
  assert.equal(summary.sent, summary.acked + summary.rejected);
  assert.equal(gateway.received.length, summary.sent, 'rejected readings are not resent');
});

test('--drop-rate disconnects devices at random and nothing acked is lost', async (t) => {
  const gateway = new FakeGateway(fakeIdentities(5));
  await gateway.start();
  t.after(() => gateway.stop());
  const fleet = new Fleet(fleetOptions(gateway, { dropRate: 0.05 }));
  fleet.start();
  await waitFor('drops and reconnects', () => fleet.stats.injectedDrops >= 3 && fleet.stats.reconnects >= 3, 30_000);
  await fleet.stop(10_000);
  const summary = summarize(fleet.stats, fleet.unacked, 1);
  assert.equal(summary.unacked, 0);
  assert.equal(summary.sent, summary.acked);
  assert.equal(summary.acked, gateway.acked.size);
});

test('commands: ping, set_interval, model commands, unknown_command and reboot', async (t) => {
  const devices = fakeIdentities(1);
  const gateway = new FakeGateway(devices);
  await gateway.start();
  t.after(() => gateway.stop());
  const fleet = new Fleet(fleetOptions(gateway, { devices, ratePerSec: 1 }));
  fleet.start();
  await waitFor('connected', () => fleet.stats.connected === 1);
  gateway.sendCommand('t-0', { id: 'c1', name: 'ping', params: {} });
  gateway.sendCommand('t-0', { id: 'c2', name: 'set_interval', params: { seconds: 5 } });
  gateway.sendCommand('t-0', { id: 'c3', name: 'calibrate', params: { offset: 1.5 } });
  gateway.sendCommand('t-0', { id: 'c4', name: 'self_destruct', params: {} });
  gateway.sendCommand('t-0', { id: 'c5', name: 'set_interval', params: {} });
  await waitFor('5 results', () => gateway.commandResults.length === 5);
  const byId = new Map(gateway.commandResults.map((r) => [r.id, r]));
  assert.equal(byId.get('c1')!.ok, true);
  assert.equal(typeof (byId.get('c1')!.result as { uptimeSec: unknown }).uptimeSec, 'number');
  assert.deepEqual(byId.get('c2')!.result, { seconds: 5 });
  assert.deepEqual(byId.get('c3')!.result, { offset: 1.5 });
  assert.equal(byId.get('c4')!.ok, false);
  assert.equal((byId.get('c4')!.error as { code: string }).code, 'unknown_command');
  assert.equal((byId.get('c5')!.error as { code: string }).code, 'invalid_params');

  gateway.sendCommand('t-0', { id: 'c6', name: 'reboot', params: { delayMs: 300 } });
  await waitFor('reboot result', () => gateway.commandResults.length === 6);
  assert.equal(gateway.commandResults[5]!.ok, true);
  await waitFor('offline', () => gateway.connected === 0);
  await waitFor('back online', () => gateway.connected === 1 && fleet.stats.reconnects === 1);
  gateway.sendCommand('t-0', { id: 'c7', name: 'ping', params: {} });
  await waitFor('ping after reboot', () => gateway.commandResults.length === 7);
  assert.ok((gateway.commandResults[6]!.result as { uptimeSec: number }).uptimeSec < 2, 'uptime restarted');
  await fleet.stop(1000);
  assert.equal(fleet.stats.commands, 7);
});

test('a refused token (4401) stops that device for good instead of reconnecting', async (t) => {
  const good = fakeIdentities(2);
  const gateway = new FakeGateway(good);
  await gateway.start();
  t.after(() => gateway.stop());
  const bad = { device: 'intruder', model: 'env-sensor', token: 'wrong' };
  const fleet = new Fleet(fleetOptions(gateway, { devices: [...good, bad] }));
  fleet.start();
  await waitFor('good ones acked', () => fleet.stats.acked >= 20);
  await fleet.stop(1000);
  assert.equal(fleet.stats.fatal, 1);
  assert.equal(fleet.stats.errors.get('unauthorized'), 1, 'tried once, not in a loop');
});
