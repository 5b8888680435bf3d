// Scale-out (docs/scale-out.md): gateway processes sharing one fleet through a real
// redis-server, with devices and backends on different nodes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Received, TestBackend } from './helpers/backend.js';
import { startCluster } from './helpers/cluster.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice, telemetry, type TestDevice } from './helpers/device.js';
import { skipWithoutRedis } from './helpers/redis-server.js';

const skip = skipWithoutRedis;

async function sendReadings(device: TestDevice, prefix: string, count: number): Promise<void> {
  for (let i = 1; i <= count; i++) {
    device.send(telemetry(`${prefix}-${i}`, { temperature: 20 + (i % 10), humidity: 40 }));
    assert.deepEqual(await device.nextFrame(), { type: 'ack', id: `${prefix}-${i}` });
  }
}

/** The next message on `topic`, skipping others (retained presence, status of other commands). */
async function nextOn(backend: TestBackend, topic: string, timeoutMs = 5000): Promise<Received> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = await backend.nextMessage(Math.max(1, deadline - Date.now())).catch((err: Error) => {
      throw new Error(`${err.message} (waiting for ${topic})`);
    });
    if (message.topic === topic) return message;
  }
}

async function telemetryIds(backend: TestBackend, count: number, timeoutMs = 10_000): Promise<Set<string>> {
  const ids = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (ids.size < count) {
    const message = await backend.nextMessage(Math.max(1, deadline - Date.now())).catch((err: Error) => {
      throw new Error(`${err.message} (${ids.size} of ${count} readings received)`);
    });
    if (message.topic.endsWith('/telemetry')) ids.add(message.payload.id as string);
  }
  return ids;
}

test('telemetry from a device on node A reaches a backend on node B; a command from B reaches the device on A, with its status on both nodes', { skip }, async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
  const token = await cluster.provision('env-1');
  const onB = await cluster.backend(b!, 'ops');
  await onB.subscribe('devices/env-1/telemetry');
  await onB.subscribe('devices/env-1/commands/+/status');
  const onA = await cluster.backend(a!, 'watcher', {}, { sub: ['devices/#'] });
  await onA.subscribe('devices/env-1/commands/+/status');
  t.after(() => Promise.all([onA.close(), onB.close()]));

  const device = await connectDevice(a!, token);
  await sendReadings(device, 'r', 50);
  const ids = await telemetryIds(onB, 50);
  assert.equal(ids.size, 50, 'every acked reading reached the backend on the other node');

  await onB.publish('devices/env-1/commands', { id: 'c-1', name: 'ping' });
  const command = await device.nextFrame();
  assert.equal(command.type, 'command');
  assert.equal(command.id, 'c-1');
  device.send({ type: 'command_result', id: 'c-1', ok: true, result: { pong: true } });
  for (const backend of [onB, onA]) {
    const statuses: string[] = [];
    while (statuses.at(-1) !== 'succeeded') statuses.push((await nextOn(backend, 'devices/env-1/commands/c-1/status')).payload.status as string);
    assert.deepEqual(statuses, ['accepted', 'delivered', 'succeeded']);
  }
  await device.close();
});

test('takeover is cluster-wide: a connection on node B closes the older one on node A with 4409', { skip }, async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes;
  const token = await cluster.provision('env-1');
  const first = await connectDevice(a!, token);
  const second = await connectDevice(b!, token);
  assert.equal((await withDeadline(first.closed, 3000, 'close of the older connection')).code, 4409);
  second.send(telemetry('after', { temperature: 20, humidity: 40 }));
  assert.deepEqual(await second.nextFrame(), { type: 'ack', id: 'after' });
  await second.close();
});

test('under multi, presence counts connections on every node', { skip }, async (t) => {
  const cluster = await startCluster(t, 2, { WMG_DEVICES_SESSION_POLICY: 'multi' });
  const [a, b] = cluster.nodes;
  const token = await cluster.provision('env-1');
  const watcher = await cluster.backend(a!, 'watcher', {}, { sub: ['devices/#'] });
  t.after(() => watcher.close());
  await watcher.subscribe('devices/env-1/presence');
  const presence = async (connections: number) => {
    for (;;) {
      const { payload } = await nextOn(watcher, 'devices/env-1/presence');
      if (payload.connections === connections) return payload;
    }
  };
  const onA = await connectDevice(a!, token);
  assert.equal((await presence(1)).online, true);
  const onB = await connectDevice(b!, token);
  assert.equal((await presence(2)).online, true);
  await onA.close();
  assert.equal((await presence(1)).online, true);
  await onB.close();
  assert.equal((await presence(0)).online, false);
});

test('a node killed with -9: its devices go offline within 10 s, and a persistent session that was on it gets every reading acked meanwhile through another node', { skip }, async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes;
  const [token1, token2] = [await cluster.provision('env-1'), await cluster.provision('env-2')];
  const archiver = await cluster.backend(a!, 'archiver', { clientId: 'archiver', clean: false }, { sub: ['devices/#'] });
  await archiver.subscribe('devices/+/telemetry');
  const watcher = await cluster.backend(b!, 'watcher', {}, { sub: ['devices/#'] });
  t.after(() => watcher.close());
  await watcher.subscribe('devices/env-1/presence');
  const onA = await connectDevice(a!, token1);
  const onB = await connectDevice(b!, token2);
  for (;;) if ((await nextOn(watcher, 'devices/env-1/presence')).payload.online === true) break;

  const killedAt = Date.now();
  a!.child.kill('SIGKILL');
  await onA.closed;
  // Waited for past the bound, so a late correction fails with its time rather than a timeout.
  const offlineBy = killedAt + 15_000;
  for (;;) if ((await nextOn(watcher, 'devices/env-1/presence', offlineBy - Date.now())).payload.online === false) break;
  const offlineAfter = Date.now() - killedAt;
  assert.ok(offlineAfter < 10_000, `offline presence after ${offlineAfter} ms`);

  await sendReadings(onB, 'meanwhile', 30);
  archiver.client.stream.destroy(); // its node is gone; the client object is dead
  const resumed = await cluster.backend(b!, 'archiver', { clientId: 'archiver', clean: false });
  t.after(() => resumed.close());
  const ids = await telemetryIds(resumed, 30, 20_000);
  for (let i = 1; i <= 30; i++) assert.ok(ids.has(`meanwhile-${i}`), `meanwhile-${i} delivered`);
  await onB.close();
});

test('redis away: device sockets stay open and get store_unavailable instead of acks; once it is back, acks resume without a restart', { skip }, async (t) => {
  const cluster = await startCluster(t, 1);
  const [node] = cluster.nodes;
  const token = await cluster.provision('env-1');
  const device = await connectDevice(node!, token);
  await sendReadings(device, 'before', 3);

  await cluster.redis.stop();
  const health = async () => ((await (await fetch(`${node!.addresses.http}/healthz`)).json()) as { redis: string }).redis;
  const deadline = Date.now() + 5000;
  while ((await health()) === 'ready') {
    assert.ok(Date.now() < deadline, 'the node noticed redis is gone');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ready = await fetch(`${node!.addresses.http}/readyz`);
  assert.equal(ready.status, 503, 'not ready while the store does not answer');
  assert.equal(((await ready.json()) as { status: string }).status, 'store_unavailable');
  device.send(telemetry('while-away', { temperature: 20, humidity: 40 }));
  const refused = await device.nextFrame();
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'store_unavailable');
  assert.equal(refused.id, 'while-away');

  await cluster.redis.restart();
  const back = Date.now() + 10_000;
  while ((await health()) !== 'ready') {
    assert.ok(Date.now() < back, 'the node reconnected to redis');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await sendReadings(device, 'after', 3);
  assert.equal((await fetch(`${node!.addresses.http}/readyz`)).status, 200);
  assert.match(node!.stderr(), /"code":"store_unavailable"/);
  await device.close();
});

test('devices revoke through the CLI closes the device on whichever node holds it within 1 s', { skip }, async (t) => {
  const cluster = await startCluster(t, 2);
  const token = await cluster.provision('env-1');
  const device = await connectDevice(cluster.nodes[1]!, token);
  const revoked = await cluster.cli(['devices', 'revoke', 'env-1']);
  assert.equal(revoked.code, 0, revoked.stderr);
  // From the CLI's exit: the change is in Redis by then, and the other node must act on it.
  const done = Date.now();
  assert.equal((await withDeadline(device.closed, 3000, 'close after revoke')).code, 4401);
  assert.ok(Date.now() - done < 1500, `closed ${Date.now() - done} ms after the CLI exited`);
});

test('persistent sessions in Redis keep mqtt.maxSessionQueue: the oldest are dropped and logged', { skip }, async (t) => {
  const cluster = await startCluster(t, 1, { WMG_MQTT_MAX_SESSION_QUEUE: '10' });
  const [node] = cluster.nodes;
  const token = await cluster.provision('env-1');
  const archiver = await cluster.backend(node!, 'archiver', { clientId: 'archiver', clean: false }, { sub: ['devices/#'] });
  await archiver.subscribe('devices/+/telemetry');
  await archiver.close();
  const device = await connectDevice(node!, token);
  await sendReadings(device, 'r', 30);
  await new Promise((resolve) => setTimeout(resolve, 2500)); // one sweep (every 2 s)
  const resumed = await cluster.backend(node!, 'archiver', { clientId: 'archiver', clean: false });
  t.after(() => resumed.close());
  const ids = [...(await telemetryIds(resumed, 10))].sort((x, y) => Number(x.slice(2)) - Number(y.slice(2)));
  assert.deepEqual(ids, Array.from({ length: 10 }, (_, i) => `r-${21 + i}`), 'the newest 10 kept');
  await assert.rejects(resumed.nextMessage(500), /no MQTT message/);
  assert.match(node!.stderr(), /"code":"session_queue_full"/);
  await device.close();
});

test('persistent sessions in Redis that no node has seen for mqtt.sessionExpiryMs are dropped', { skip }, async (t) => {
  const cluster = await startCluster(t, 1, { WMG_MQTT_SESSION_EXPIRY_MS: '1000' });
  const [node] = cluster.nodes;
  const token = await cluster.provision('env-1');
  const archiver = await cluster.backend(node!, 'archiver', { clientId: 'archiver', clean: false }, { sub: ['devices/#'] });
  await archiver.subscribe('devices/+/telemetry');
  await archiver.close();
  const deadline = Date.now() + 10_000;
  while (!/"code":"session_expired"/.test(node!.stderr())) {
    assert.ok(Date.now() < deadline, 'session_expired logged');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const after = await cluster.backend(node!, 'archiver', { clientId: 'archiver', clean: false });
  t.after(() => after.close());
  const device = await connectDevice(node!, token);
  await sendReadings(device, 'late', 1);
  await assert.rejects(after.nextMessage(500), /no MQTT message/, 'the expired session has no subscription left');
  await device.close();
});

test('desired state set through node B reaches the device on node A, and its report on A empties the delta seen on B', { skip }, async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes;
  const token = await cluster.provision('env-1');
  const device = await connectDevice(a!, token);
  t.after(() => device.close());
  const backend = await cluster.backend(b!, 'ops', {}, { pub: ['devices/+/desired/set'], sub: ['devices/#'] });
  t.after(() => backend.close());
  await backend.subscribe('devices/env-1/#');
  await backend.publish('devices/env-1/desired/set', { state: { reportIntervalSec: 7 } });
  assert.deepEqual((await nextOn(backend, 'devices/env-1/desired/status')).payload, { status: 'accepted', version: 1 });
  let frame = await device.nextFrame();
  while (frame.type !== 'desired') frame = await device.nextFrame();
  assert.deepEqual(frame, { type: 'desired', version: 1, state: { reportIntervalSec: 7 }, delta: { reportIntervalSec: 7 } });
  device.send({ type: 'state', id: 's-1', state: { reportIntervalSec: 7 } });
  for (;;) {
    const { payload } = await nextOn(backend, 'devices/env-1/twin');
    if (payload.version === 1 && Object.keys(payload.delta as object).length === 0) break;
  }
});

test('acks wait for the node that delivers: with the backend\'s node stopped (SIGSTOP) a device on the other node gets no ack, and once it runs again the ack and the reading arrive', { skip }, async (t) => {
  const cluster = await startCluster(t, 2);
  const [a, b] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
  const token = await cluster.provision('env-1');
  const onB = await cluster.backend(b!, 'ops');
  // Two subscriptions that both match: node B receives two copies from Redis and must confirm both.
  await onB.subscribe('devices/env-1/telemetry');
  await onB.subscribe('devices/+/telemetry');
  t.after(() => onB.close());
  const device = await connectDevice(a!, token);
  const before = Date.now();
  await sendReadings(device, 'both-running', 5);
  assert.ok(Date.now() - before < 5000, `acks with two copies per reading took ${Date.now() - before} ms (the receipt timeout is 10 s)`);
  await telemetryIds(onB, 5);

  b!.child.kill('SIGSTOP');
  // Resumed here, not in t.after: that would run after the cluster's own hook tries to stop it.
  try {
    device.send(telemetry('while-stopped', { temperature: 21, humidity: 40 }));
    await assert.rejects(device.nextFrame(1500), /within 1500 ms/, 'no ack while the node that delivers the reading is stopped');
  } finally {
    b!.child.kill('SIGCONT');
  }
  assert.deepEqual(await device.nextFrame(5000), { type: 'ack', id: 'while-stopped' });
  const ids = await telemetryIds(onB, 1);
  assert.ok(ids.has('while-stopped'), 'the reading acked after the resume reached the backend');
  await device.close();
});
