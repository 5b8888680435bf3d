// Desired state (the device twin) end to end: a backend's patch on devices/{id}/desired/set,
// its status, the retained twin, the device's desired frame, and reported state emptying the delta.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { connectBackend, type Received, type TestBackend } from './helpers/backend.js';
import { connectDevice, type Frame, type TestDevice } from './helpers/device.js';
import { provision, startTestGateway, type TestGateway } from './helpers/gateway.js';

async function setup(t: TestContext, gw?: TestGateway): Promise<{ gw: TestGateway; backend: TestBackend; token: string }> {
  gw ??= await startTestGateway();
  t.after(() => gw.close());
  const token = await provision(gw, 'env-1');
  const backend = await connectBackend(gw, { pub: ['devices/+/desired/set'], sub: ['devices/#'] });
  t.after(() => backend.close());
  assert.equal(await backend.subscribe('devices/+/desired/status'), 1);
  assert.equal(await backend.subscribe('devices/+/twin'), 1);
  return { gw, backend, token };
}

/** The next message on `topic`, skipping presence and the rest. */
async function nextOn(backend: TestBackend, topic: string): Promise<Received> {
  for (;;) {
    const message = await backend.nextMessage();
    if (message.topic === topic) return message;
  }
}

/** The next frame of `type`, skipping acks and the rest. */
async function nextFrameOf(device: TestDevice, type: string): Promise<Frame> {
  for (;;) {
    const frame = await device.nextFrame();
    if (frame.type === type) return frame;
  }
}

const STATUS = 'devices/env-1/desired/status';
const TWIN = 'devices/env-1/twin';

test('an accepted change reaches the device, the status and the retained twin; the device report empties the delta', async (t) => {
  const { gw, backend, token } = await setup(t);
  const device = await connectDevice(gw, token);
  t.after(() => device.close());
  device.send({ type: 'state', id: 's-0', state: { firmware: '1.0.0', reportIntervalSec: 60 } });
  assert.equal((await nextOn(backend, TWIN)).payload.version, 0);

  await backend.publish('devices/env-1/desired/set', { state: { reportIntervalSec: 10, temperatureAlertAbove: 30 } });
  assert.deepEqual((await nextOn(backend, STATUS)).payload, { status: 'accepted', version: 1 });
  const twin = await nextOn(backend, TWIN);
  assert.equal(typeof twin.payload.updatedAt, 'number');
  assert.deepEqual({ ...twin.payload, updatedAt: 0 }, {
    device: 'env-1',
    version: 1,
    desired: { reportIntervalSec: 10, temperatureAlertAbove: 30 },
    reported: { firmware: '1.0.0', reportIntervalSec: 60 },
    delta: { reportIntervalSec: 10, temperatureAlertAbove: 30 },
    updatedAt: 0,
  });
  assert.deepEqual(await nextFrameOf(device, 'desired'), {
    type: 'desired',
    version: 1,
    state: { reportIntervalSec: 10, temperatureAlertAbove: 30 },
    delta: { reportIntervalSec: 10, temperatureAlertAbove: 30 },
  });

  device.send({ type: 'state', id: 's-1', state: { reportIntervalSec: 10, temperatureAlertAbove: 30 } });
  assert.deepEqual(await nextFrameOf(device, 'ack'), { type: 'ack', id: 's-1' });
  const reported = await nextOn(backend, TWIN);
  assert.deepEqual(reported.payload.reported, { firmware: '1.0.0', reportIntervalSec: 10, temperatureAlertAbove: 30 });
  assert.deepEqual(reported.payload.delta, {});
  assert.equal(reported.payload.version, 1);
});

test('version conflicts, invalid desired state with paths, and null deleting a key', async (t) => {
  const { backend } = await setup(t);
  const set = (payload: unknown) => backend.publish('devices/env-1/desired/set', payload);
  await set({ state: { reportIntervalSec: 10, humidityAlertAbove: 80 }, version: 0 });
  assert.deepEqual((await nextOn(backend, STATUS)).payload, { status: 'accepted', version: 1 });

  await set({ state: { reportIntervalSec: 20 }, version: 0 });
  const conflict = (await nextOn(backend, STATUS)).payload;
  assert.equal(conflict.status, 'rejected');
  assert.equal(conflict.code, 'version_conflict');
  assert.equal(conflict.version, 1);
  assert.deepEqual((conflict.errors as Array<{ path: string }>).map((e) => e.path), ['/version']);

  await set({ state: { reportIntervalSec: 0, colour: 'red' } });
  const invalid = (await nextOn(backend, STATUS)).payload;
  assert.equal(invalid.code, 'invalid_desired');
  assert.equal(invalid.version, 1);
  assert.deepEqual((invalid.errors as Array<{ path: string }>).map((e) => e.path).sort(), ['/state/colour', '/state/reportIntervalSec']);

  await set({ state: { humidityAlertAbove: null }, version: 1 });
  assert.deepEqual((await nextOn(backend, STATUS)).payload, { status: 'accepted', version: 2 });
  let twin = await nextOn(backend, TWIN);
  while (twin.payload.version !== 2) twin = await nextOn(backend, TWIN);
  assert.deepEqual(twin.payload.desired, { reportIntervalSec: 10 });

  await backend.client.publishAsync('devices/env-1/desired/set', 'not json', { qos: 1 });
  assert.equal((await nextOn(backend, STATUS)).payload.code, 'invalid_desired');
  await backend.publish('devices/ghost/desired/set', { state: { reportIntervalSec: 5 } });
  const unknown = await nextOn(backend, 'devices/ghost/desired/status');
  assert.equal(unknown.payload.code, 'unknown_device');
});

test('an offline device gets only the latest desired state when it connects, and the twin survives a restart', async (t) => {
  const first = await startTestGateway();
  const { backend, token } = await setup(t, first);
  for (const seconds of [10, 20, 30]) {
    await backend.publish('devices/env-1/desired/set', { state: { reportIntervalSec: seconds } });
    assert.equal((await nextOn(backend, STATUS)).payload.status, 'accepted');
  }
  const device = await connectDevice(first, token);
  assert.deepEqual(await nextFrameOf(device, 'desired'), { type: 'desired', version: 3, state: { reportIntervalSec: 30 }, delta: { reportIntervalSec: 30 } });
  // Nothing older follows: the next frame is the ack of a state frame sent now.
  device.send({ type: 'state', id: 's-1', state: { reportIntervalSec: 30 } });
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 's-1' });
  await device.close();
  await backend.close();
  await first.stop();

  const second = await startTestGateway({}, first.dataDir);
  t.after(() => second.close());
  const again = await connectDevice(second, token);
  assert.deepEqual(await nextFrameOf(again, 'desired'), { type: 'desired', version: 3, state: { reportIntervalSec: 30 }, delta: {} });
  await again.close();
  const late = await connectBackend(second, { pub: ['devices/+/desired/set'], sub: ['devices/#'] });
  t.after(() => late.close());
  await late.subscribe(TWIN);
  const twin = await nextOn(late, TWIN);
  assert.equal(twin.retain, true);
  assert.equal(twin.payload.version, 3);
  await late.publish('devices/env-1/desired/set', { state: { reportIntervalSec: 40 }, version: 3 });
  await late.subscribe(STATUS);
  // The status may already be out before the subscription: the retained twin shows the outcome.
  let next = await nextOn(late, TWIN);
  while (next.payload.version !== 4) next = await nextOn(late, TWIN);
  assert.deepEqual(next.payload.desired, { reportIntervalSec: 40 });
});

test('a change the store refuses is rejected with store_unavailable and never announced as accepted', async (t) => {
  const { gw, backend } = await setup(t);
  gw.store.exec('ALTER TABLE twins RENAME TO twins_away');
  await backend.publish('devices/env-1/desired/set', { state: { reportIntervalSec: 10 } });
  const status = (await nextOn(backend, STATUS)).payload;
  assert.equal(status.status, 'rejected');
  assert.equal(status.code, 'store_unavailable');
});

test('desired/set needs publish rights on that topic, like commands', async (t) => {
  const { gw } = await setup(t);
  const reader = await connectBackend(gw, { pub: ['devices/+/commands'], sub: ['devices/#'] });
  const closed = new Promise((resolve) => reader.client.once('close', () => resolve(undefined)));
  reader.client.publish('devices/env-1/desired/set', JSON.stringify({ state: { reportIntervalSec: 5 } }), { qos: 1 });
  await closed; // MQTT 3.1.1 cannot NACK a publish: the broker closes the connection
  reader.client.end(true);
  const row = gw.store.prepare('SELECT version FROM twins WHERE device = ?').get('env-1');
  assert.equal(row, undefined, 'nothing stored');
});
