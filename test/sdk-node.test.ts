// The device SDK (ws-mqtt-gateway/device) in Node against a real gateway: acks,
// refusals with the gateway's code and paths, rate-limit retries, the outbox across
// a gateway restart, commands, desired state, and a refused token.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import mqtt from 'mqtt';
import { connectDevice, DeviceError, type Desired, type DeviceClient, type DeviceEvents } from '../sdk/node.js';
import { connectBackend, connectTestBackend, type TestBackend } from './helpers/backend.js';
import { withDeadline } from './helpers/deadline.js';
import { provision, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

function device(t: TestContext, gw: TestGateway, token: string, reconnect = { minMs: 50, maxMs: 200 }): DeviceClient {
  const client = connectDevice({ url: gw.addresses.ws, token, tls: { ca: gw.ca }, reconnect });
  t.after(() => client.close());
  return client;
}

function once<K extends keyof DeviceEvents>(client: DeviceClient, event: K): Promise<Parameters<DeviceEvents[K]>[0]> {
  return withDeadline(
    new Promise((resolve) => {
      const off = client.on(event, ((arg: Parameters<DeviceEvents[K]>[0]) => {
        off();
        resolve(arg);
      }) as DeviceEvents[K]);
    }),
    5000,
    `${String(event)} event`,
  );
}

async function rejection(promise: Promise<unknown>): Promise<DeviceError> {
  const error = await withDeadline(promise.then(() => undefined, (err: unknown) => err), 5000, 'refusal');
  assert.ok(error instanceof DeviceError, `rejected with a DeviceError, got ${String(error)}`);
  return error;
}

test('telemetry resolves on the ack, a refusal rejects with the gateway code and paths, state resolves too', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const client = device(t, gw, await provision(gw, 'env-1'));
  const welcome = await once(client, 'welcome');
  assert.deepEqual([welcome.device, welcome.model], ['env-1', 'env-sensor']);
  await withDeadline(client.telemetry({ temperature: 21.5, humidity: 40 }), 5000, 'ack');
  const error = await rejection(client.telemetry({ temperature: 'warm', humidity: 40 }));
  assert.equal(error.code, 'invalid_telemetry');
  assert.deepEqual(error.errors.map((e) => e.path), ['/data/temperature']);
  await withDeadline(client.state({ firmware: '1.2.3' }), 5000, 'state ack');
  assert.equal(client.pending, 0);
});

test('rate_limited is retried with backoff, not surfaced: every message is acked', async (t) => {
  const gw = await startTestGateway({ limits: { messagesPerSec: 10, burst: 10 } });
  t.after(() => gw.close());
  const client = device(t, gw, await provision(gw, 'env-1'));
  let rateLimited = 0;
  client.on('refused', ({ code }) => code === 'rate_limited' && rateLimited++);
  await once(client, 'online');
  const sends = Array.from({ length: 30 }, (_, i) => client.telemetry({ temperature: i, humidity: 40 }));
  await withDeadline(Promise.all(sends), 15_000, 'all 30 acks');
  assert.ok(rateLimited > 0, 'the gateway did rate-limit');
});

test('unacked messages are resent with the same ids after a gateway restart, and nothing acked is lost', async (t) => {
  const first = await startTestGateway();
  const token = await provision(first, 'env-1');
  await first.users.add('archiver', 'pw', [], ['devices/#']);
  const archiver = { username: 'archiver', password: 'pw', clientId: 'archiver-1', clean: false, reconnectPeriod: 0 };
  const session = await mqtt.connectAsync(first.addresses.mqtt, archiver);
  await session.subscribeAsync('devices/+/telemetry', { qos: 1 });
  await session.endAsync();

  const client = connectDevice({ url: first.addresses.ws, token, tls: { ca: first.ca }, reconnect: { minMs: 50, maxMs: 200 } });
  t.after(() => client.close());
  await once(client, 'online');
  const acked = await Promise.all(Array.from({ length: 5 }, (_, i) => client.telemetry({ temperature: i, humidity: 40 }, { id: `before-${i}` })));
  assert.equal(acked.length, 5);
  const offline = once(client, 'offline');
  await first.stop();
  await offline;
  const later = Array.from({ length: 5 }, (_, i) => client.telemetry({ temperature: i, humidity: 41 }, { id: `during-${i}` }));
  assert.equal(client.pending, 5);

  const port = Number(new URL(first.addresses.ws).port);
  const second = await startTestGateway({ ws: { port } }, first.dataDir);
  t.after(() => second.close());
  await withDeadline(Promise.all(later), 10_000, 'acks after the restart');
  const received = new Set<string>();
  const back = await connectTestBackend(second.addresses.mqtt, archiver);
  t.after(() => back.client.endAsync(true));
  while (received.size < 10) received.add((await back.nextMessage(10_000)).payload.id as string);
  assert.deepEqual([...received].sort(), [...['before', 'during'].flatMap((p) => [0, 1, 2, 3, 4].map((i) => `${p}-${i}`))].sort());
});

async function backendFor(t: TestContext, gw: TestGateway): Promise<TestBackend> {
  const backend = await connectBackend(gw, { pub: ['devices/+/commands', 'devices/+/desired/set'], sub: ['devices/#'] });
  t.after(() => backend.close());
  return backend;
}

test('command handlers answer with their result or their thrown code; unknown commands get unknown_command', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const client = device(t, gw, await provision(gw, 'env-1'));
  client.onCommand('ping', async () => ({ pong: true }));
  client.onCommand('calibrate', (params) => {
    throw Object.assign(new Error(`offset ${String(params.offset)} is out of range`), { code: 'out_of_range' });
  });
  await once(client, 'online');
  const backend = await backendFor(t, gw);
  await backend.subscribe('devices/+/commands/+/status');
  const finished = new Map<string, Record<string, unknown>>();
  backend.client.on('message', (_topic, payload) => {
    const event = JSON.parse(payload.toString()) as Record<string, unknown>;
    if (event.status === 'succeeded' || event.status === 'failed') finished.set(event.id as string, event);
  });
  await backend.publish('devices/env-1/commands', { id: 'c-1', name: 'ping' });
  await backend.publish('devices/env-1/commands', { id: 'c-2', name: 'calibrate', params: { offset: 9 } });
  await backend.publish('devices/env-1/commands', { id: 'c-3', name: 'set_interval', params: { seconds: 5 } });
  await waitFor('3 results', () => finished.size === 3);
  assert.deepEqual(finished.get('c-1')!.result, { pong: true });
  assert.deepEqual(finished.get('c-2')!.error, { code: 'out_of_range', message: 'offset 9 is out of range' });
  assert.equal((finished.get('c-3')!.error as { code: string }).code, 'unknown_command');
});

test('desired state reaches onDesired; reporting it empties the twin delta', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const client = device(t, gw, await provision(gw, 'env-1'));
  const desired: Desired[] = [];
  client.onDesired((d) => {
    desired.push(d);
    void client.state({ reportIntervalSec: d.state.reportIntervalSec as number });
  });
  await once(client, 'online');
  const backend = await backendFor(t, gw);
  await backend.subscribe('devices/env-1/twin');
  await backend.publish('devices/env-1/desired/set', { state: { reportIntervalSec: 15 } });
  await waitFor('desired state', () => desired.length === 1);
  assert.deepEqual(desired[0], { version: 1, state: { reportIntervalSec: 15 }, delta: { reportIntervalSec: 15 } });
  for (;;) {
    const twin = (await backend.nextMessage()).payload;
    if (twin.version === 1 && Object.keys(twin.delta as object).length === 0) break;
  }
  assert.deepEqual(client.desired, desired[0]);
});

test('a refused token (4401) surfaces unauthorized, rejects what is pending and stops reconnecting', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const client = device(t, gw, 'wmg_not-a-token');
  let offlines = 0;
  client.on('offline', () => offlines++);
  const pending = client.telemetry({ temperature: 1, humidity: 2 });
  const error = await once(client, 'error');
  assert.equal(error.code, 'unauthorized');
  assert.equal((await rejection(pending)).code, 'unauthorized');
  assert.equal(client.online, false);
  // With minMs 50 a retry would come within 200 ms; none does.
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(offlines, 1);
  assert.equal((await rejection(client.telemetry({ temperature: 1, humidity: 2 }))).code, 'closed');
});
