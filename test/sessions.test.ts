// Presence and the several-connections policy: what a backend sees when a
// device comes, goes, reconnects from a second place, or goes silent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subscribedBackend } from './helpers/backend.js';
import { connectDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

test('presence is retained: online with the connection count, then offline when the last one drops', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/presence');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  const online = await backend.nextMessage();
  assert.equal(online.topic, 'devices/env-1/presence');
  assert.equal(online.payload.online, true);
  assert.equal(online.payload.connections, 1);
  assert.equal(typeof online.payload.since, 'number');

  await device.close();
  const offline = await backend.nextMessage();
  assert.deepEqual({ ...offline.payload, since: 0 }, { online: false, since: 0, connections: 0 });
  assert.ok((offline.payload.since as number) >= (online.payload.since as number));

  // A backend that subscribes later gets the retained last word.
  const late = await subscribedBackend(gw, 'devices/env-1/presence');
  t.after(() => late.close());
  const retained = await late.nextMessage();
  assert.equal(retained.retain, true);
  assert.equal(retained.payload.online, false);
});

test('takeover (default): a second connection closes the first with 4409 replaced; data flows on the new one', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/env-1/presence');
  t.after(() => backend.close());
  const token = await provision(gw, 'env-1');
  const first = await connectDevice(gw, token);
  assert.equal((await backend.nextMessage()).payload.connections, 1);
  const second = await connectDevice(gw, token);
  assert.deepEqual(await first.closed, { code: 4409, reason: 'replaced' });
  const afterTakeover = await backend.nextMessage();
  assert.equal(afterTakeover.payload.online, true);
  assert.equal(afterTakeover.payload.connections, 1);
  second.send(telemetry('m-1', { temperature: 1, humidity: 1 }));
  assert.deepEqual(await second.nextFrame(), { type: 'ack', id: 'm-1' });
  await second.close();
  assert.equal((await backend.nextMessage()).payload.online, false);
});

test('multi: connections of one device all stay open and presence counts them', async (t) => {
  const gw = await startTestGateway({ devices: { sessionPolicy: 'multi' } });
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/env-1/presence');
  t.after(() => backend.close());
  const token = await provision(gw, 'env-1');
  const a = await connectDevice(gw, token);
  const b = await connectDevice(gw, token);
  assert.equal((await backend.nextMessage()).payload.connections, 1);
  const two = (await backend.nextMessage()).payload;
  assert.equal(two.connections, 2);
  for (const device of [a, b]) {
    device.send(telemetry('m', { temperature: 1, humidity: 1 }));
    assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm' });
  }
  await a.close();
  const one = (await backend.nextMessage()).payload;
  assert.deepEqual([one.online, one.connections, one.since], [true, 1, two.since]);
  await b.close();
  assert.equal((await backend.nextMessage()).payload.online, false);
});

test('a device that stops answering pings is terminated after two missed pongs and goes offline', async (t) => {
  const gw = await startTestGateway({ devices: { heartbeatMs: 100 } });
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/presence');
  t.after(() => backend.close());
  const alive = await connectDevice(gw, await provision(gw, 'alive-1'));
  const dead = await connectDevice(gw, await provision(gw, 'dead-1'), { autoPong: false });
  const closed = await dead.closed;
  assert.equal(closed.code, 1006, 'terminated without a close frame');
  const updates = [];
  for (let i = 0; i < 3; i++) updates.push(await backend.nextMessage());
  const last = updates.filter((m) => m.topic === 'devices/dead-1/presence').at(-1)!;
  assert.equal(last.payload.online, false);
  // The device that answers pings is still connected.
  alive.send(telemetry('still', { temperature: 1, humidity: 1 }));
  assert.deepEqual(await alive.nextFrame(), { type: 'ack', id: 'still' });
  await alive.close();
});

test('stopping the gateway publishes offline presence for every connected device and closes sockets with 1001', async (t) => {
  const gw = await startTestGateway();
  let closed = false;
  t.after(() => (closed ? undefined : gw.close()));
  const backend = await subscribedBackend(gw, 'devices/+/presence');
  const devices = [];
  for (const id of ['env-1', 'env-2']) {
    devices.push(await connectDevice(gw, await provision(gw, id)));
    await backend.nextMessage();
  }
  const messages = Promise.all([backend.nextMessage(), backend.nextMessage()]);
  const stopping = gw.close();
  closed = true;
  const offline = await messages;
  assert.deepEqual(offline.map((m) => [m.topic, m.payload.online]).sort(), [
    ['devices/env-1/presence', false],
    ['devices/env-2/presence', false],
  ]);
  for (const device of devices) assert.equal((await device.closed).code, 1001);
  await stopping;
  backend.client.end(true);
});

test('multi: a device\'s connections share one rate budget', async (t) => {
  const gw = await startTestGateway({ devices: { sessionPolicy: 'multi' }, limits: { messagesPerSec: 0.1, burst: 2 } });
  t.after(() => gw.close());
  const token = await provision(gw, 'env-1');
  const a = await connectDevice(gw, token);
  const b = await connectDevice(gw, token);
  a.send(telemetry('a-1', { temperature: 1, humidity: 1 }));
  assert.equal((await a.nextFrame()).type, 'ack');
  b.send(telemetry('b-1', { temperature: 1, humidity: 1 }));
  assert.equal((await b.nextFrame()).type, 'ack');
  b.send(telemetry('b-2', { temperature: 1, humidity: 1 }));
  assert.equal((await b.nextFrame()).code, 'rate_limited');
  a.send(telemetry('a-2', { temperature: 1, humidity: 1 }));
  assert.equal((await a.nextFrame()).code, 'rate_limited');
  await a.close();
  await b.close();
});
