// What the gateway promises about persistent MQTT sessions besides durability:
// each queue is bounded and says so in the log, an idle session expires, and a
// store that refuses a write means no ack, never a false one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { connectDevice, telemetry, type TestDevice } from './helpers/device.js';
import { connectTestBackend, subscribedBackend, type TestBackend } from './helpers/backend.js';
import { provision, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

interface LogLine {
  code?: string;
  [field: string]: unknown;
}

async function gatewayWithLog(overrides: Record<string, unknown>): Promise<{ gw: TestGateway; lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const gw = await startTestGateway({ log: { level: 'info' }, ...overrides }, undefined, (line) => lines.push(JSON.parse(line) as LogLine));
  const added = await gw.users.add('archiver', 'pw', [], ['devices/#']);
  assert.ok(added.ok);
  return { gw, lines };
}

function connectArchiver(gw: TestGateway): Promise<TestBackend> {
  return connectTestBackend(gw.addresses.mqtt, { clientId: 'archiver-1', clean: false, username: 'archiver', password: 'pw' });
}

async function nextId(archiver: TestBackend): Promise<unknown> {
  return (await archiver.nextMessage(5000)).payload.id;
}

/** Subscribes the archiver's persistent session to all telemetry and takes it offline. */
async function leaveSessionOffline(gw: TestGateway): Promise<void> {
  const archiver = await connectArchiver(gw);
  await archiver.subscribe('devices/+/telemetry');
  await archiver.close();
}

async function sendAndAck(device: TestDevice, ids: string[]): Promise<void> {
  for (const id of ids) device.send(telemetry(id, { temperature: 1, humidity: 2 }));
  for (const id of ids) assert.deepEqual(await device.nextFrame(), { type: 'ack', id });
}

test('a persistent session keeps at most mqtt.maxSessionQueue messages, drops the oldest and logs session_queue_full', async (t) => {
  const { gw, lines } = await gatewayWithLog({ mqtt: { port: 0, maxSessionQueue: 5 } });
  t.after(() => gw.close());
  await leaveSessionOffline(gw);
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  t.after(() => device.close());
  await sendAndAck(device, ['r-1', 'r-2', 'r-3', 'r-4', 'r-5', 'r-6', 'r-7', 'r-8']);

  const full = lines.find((line) => line.code === 'session_queue_full');
  assert.ok(full, 'a session_queue_full line');
  assert.equal(full.clientId, 'archiver-1');
  assert.equal(full.maxSessionQueue, 5);
  const health = (await (await fetch(`${gw.addresses.http}/healthz`)).json()) as { mqttSessions: unknown };
  assert.deepEqual(health.mqttSessions, { persistent: 1, queued: 5, dropped: 3 });
  // On disk too (what a restart would load): the dropped rows went in the same transaction.
  assert.equal(gw.store.prepare("SELECT count(*) FROM broker_outgoing WHERE client_id = 'archiver-1'").pluck().get(), 5);

  const archiver = await connectArchiver(gw);
  t.after(() => archiver.client.end(true));
  const ids = [];
  for (let i = 0; i < 5; i++) ids.push(await nextId(archiver));
  assert.deepEqual(ids, ['r-4', 'r-5', 'r-6', 'r-7', 'r-8']);
  // A live reading after the queue: arrives next, so nothing else was left queued.
  await sendAndAck(device, ['r-9']);
  assert.equal(await nextId(archiver), 'r-9');
});

test('a persistent session offline longer than mqtt.sessionExpiryMs is dropped and logged session_expired', async (t) => {
  const { gw, lines } = await gatewayWithLog({ mqtt: { port: 0, sessionExpiryMs: 300 } });
  t.after(() => gw.close());
  await leaveSessionOffline(gw);
  await waitFor('session_expired', () => lines.some((line) => line.code === 'session_expired' && line.clientId === 'archiver-1'), 5000);

  const archiver = mqtt.connect(gw.addresses.mqtt, { clientId: 'archiver-1', clean: false, username: 'archiver', password: 'pw', reconnectPeriod: 0 });
  t.after(() => archiver.end(true));
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
    archiver.once('connect', resolve);
    archiver.once('error', reject);
  });
  assert.equal(connack.sessionPresent, false);
  // Its subscription is gone too: a reading queues nothing for it.
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  t.after(() => device.close());
  await sendAndAck(device, ['r-1']);
  assert.equal(gw.store.prepare("SELECT count(*) FROM broker_outgoing WHERE client_id = 'archiver-1'").pluck().get(), 0);
});

test('when the store refuses the write, the device gets internal_error instead of an ack, and the resend is acked', async (t) => {
  const { gw, lines } = await gatewayWithLog({});
  t.after(() => gw.close());
  await leaveSessionOffline(gw);
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  t.after(() => device.close());
  // What a full disk does to the queue insert, from a second connection as another process would.
  gw.store.exec("CREATE TRIGGER refuse_queue BEFORE INSERT ON broker_outgoing BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
  device.send(telemetry('r-1', { temperature: 1, humidity: 2 }));
  const refused = await device.nextFrame();
  assert.deepEqual([refused.type, refused.code, refused.id], ['error', 'internal_error', 'r-1']);
  assert.ok(lines.some((line) => line.code === 'store_unavailable'));

  gw.store.exec('DROP TRIGGER refuse_queue');
  await sendAndAck(device, ['r-1']);
  const archiver = await connectArchiver(gw);
  t.after(() => archiver.client.end(true));
  assert.equal(await nextId(archiver), 'r-1');
  // Exactly once: the refused copy was not left queued in memory either.
  await sendAndAck(device, ['r-2']);
  assert.equal(await nextId(archiver), 'r-2');
});

// aedes drops, per subscriber, a publish numbered lower than one it already forwarded
// (its cluster dedupe). The commit a retained publish waits for must not let a later
// publish overtake it, or the retained state would never reach live subscribers.
test('state and telemetry sent back to back both reach a live subscriber, in order', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/#');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  t.after(() => device.close());
  for (let i = 0; i < 20; i++) {
    // One write, so the gateway reads both frames in one chunk and publishes them in one turn.
    const socket = (device.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
    socket.cork();
    device.send({ type: 'state', id: `s-${i}`, state: { firmware: `1.0.${i}` } });
    device.send(telemetry(`r-${i}`, { temperature: i, humidity: 2 }));
    socket.uncork();
    const topics = [];
    while (topics.length < 2) {
      const message = await backend.nextMessage();
      // Presence and the twin (which a state frame updates) are other streams.
      if (!message.topic.endsWith('/presence') && !message.topic.endsWith('/twin')) topics.push(message.topic);
    }
    assert.deepEqual(topics, ['devices/env-1/state', 'devices/env-1/telemetry'], `round ${i}`);
    assert.deepEqual([await device.nextFrame(), await device.nextFrame()], [{ type: 'ack', id: `s-${i}` }, { type: 'ack', id: `r-${i}` }]);
  }
});
