// The MQTT side is closed by default: no anonymous clients, ACLs per user, and
// device data topics that no backend can forge, whatever its ACL says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { connectBackend, subscribedBackend, TestBackend } from './helpers/backend.js';
import { connectDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

async function connectError(url: string, options: mqtt.IClientOptions): Promise<number | undefined> {
  try {
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
    await client.endAsync();
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}

test('anonymous MQTT connections are refused (CONNACK 5)', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  assert.equal(await connectError(gw.addresses.mqtt, {}), 5);
});

test('a wrong password or unknown user is refused (CONNACK 4)', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  await gw.users.add('svc', 'right', [], ['#']);
  assert.equal(await connectError(gw.addresses.mqtt, { username: 'svc', password: 'wrong' }), 4);
  assert.equal(await connectError(gw.addresses.mqtt, { username: 'nobody', password: 'right' }), 4);
  assert.equal(await connectError(gw.addresses.mqtt, { username: 'svc', password: 'right' }), undefined);
});

test('a backend cannot publish device telemetry, state, presence or the gateway\'s twin and status topics even with publish rights on #', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const watcher = await subscribedBackend(gw, 'devices/#');
  t.after(() => watcher.close());
  const forged = ['devices/env-1/telemetry', 'devices/env-1/state', 'devices/env-1/presence', 'gateway/deadletter/env-1', 'devices/env-1/twin', 'devices/env-1/desired/status'];
  for (const topic of forged) {
    const forger = await connectBackend(gw, { pub: ['#'] });
    const closed = new Promise((resolve) => forger.client.once('close', () => resolve(undefined)));
    forger.client.publish(topic, JSON.stringify({ device: 'env-1', data: { temperature: 99 } }), { qos: 1 });
    await closed; // MQTT 3.1.1 cannot NACK a publish: the broker closes the connection
    forger.client.end(true);
  }
  // The first data message the watcher sees comes from the real device.
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  device.send(telemetry('real', { temperature: 20, humidity: 20 }));
  let message = await watcher.nextMessage();
  while (message.topic.endsWith('/presence')) message = await watcher.nextMessage();
  assert.equal(message.topic, 'devices/env-1/telemetry');
  assert.equal(message.payload.id, 'real');
  await device.close();
});

test('subscribe ACLs hold: a filter outside the patterns gets SUBACK 128 and no messages', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const narrow = await connectBackend(gw, { sub: ['devices/env-1/+'] });
  t.after(() => narrow.close());
  assert.equal(await narrow.subscribe('devices/env-1/telemetry'), 1);
  assert.equal(await narrow.subscribe('devices/+/telemetry'), 128);
  assert.equal(await narrow.subscribe('devices/#'), 128);
  assert.equal(await narrow.subscribe('#'), 128);
  assert.equal(await narrow.subscribe('$SYS/#'), 128);

  const other = await connectDevice(gw, await provision(gw, 'env-2'));
  const mine = await connectDevice(gw, await provision(gw, 'env-1'));
  other.send(telemetry('theirs', { temperature: 1, humidity: 1 }));
  await other.nextFrame();
  mine.send(telemetry('mine', { temperature: 1, humidity: 1 }));
  const { topic, payload } = await narrow.nextMessage();
  assert.equal(topic, 'devices/env-1/telemetry');
  assert.equal(payload.id, 'mine');
  await other.close();
  await mine.close();
});

test('publish ACLs hold: a backend may publish only where its patterns allow', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const watcher = await subscribedBackend(gw, 'app/#');
  t.after(() => watcher.close());
  const limited = await connectBackend(gw, { pub: ['app/allowed/+'] });
  await limited.publish('app/allowed/x', { n: 1 });
  assert.deepEqual((await watcher.nextMessage()).payload, { n: 1 });
  const closed = new Promise((resolve) => limited.client.once('close', () => resolve(undefined)));
  limited.client.publish('app/forbidden', JSON.stringify({ n: 2 }), { qos: 1 });
  await closed;
  limited.client.end(true);
});

test('users remove closes that user\'s live MQTT session', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await connectBackend(gw, { sub: ['#'] }, 'leaving');
  const closed = new Promise((resolve) => backend.client.once('close', () => resolve(undefined)));
  assert.ok((await gw.users.remove('leaving')).ok);
  await closed;
  backend.client.end(true);
});

test('with mqtt.tlsPort set, backends can connect over MQTTS with the gateway certificate', async (t) => {
  const gw = await startTestGateway({ mqtt: { tlsPort: 0 } });
  t.after(() => gw.close());
  assert.match(gw.addresses.mqtts!, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
  await gw.users.add('secure', 'pw', [], ['devices/#']);
  const client = await mqtt.connectAsync(gw.addresses.mqtts!, { username: 'secure', password: 'pw', ca: gw.ca, reconnectPeriod: 0 });
  const backend = new TestBackend(client);
  await backend.subscribe('devices/+/telemetry');
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  device.send(telemetry('over-tls', { temperature: 1, humidity: 1 }));
  assert.equal((await backend.nextMessage()).payload.id, 'over-tls');
  await device.close();
  await backend.close();
});
