// "Acked" is a promise to every persistent backend session: a reading the device
// got an ack for reaches the session after a kill -9 or a restart of the gateway,
// whether the session was offline or online but not acking. Retained state and
// presence come back too, presence corrected to offline for the devices the crash cut off.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { connect as connectTcp, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { WebSocket } from 'ws';
import { Arrivals } from './helpers/arrivals.js';
import { SHIPPED_MODELS_DIR, listModelNames } from '../gateway/models/load-models.js';
import { DeviceRegistry } from '../gateway/registry/devices.js';
import { UserRegistry } from '../gateway/registry/users.js';
import { openStore } from '../gateway/store/open-store.js';
import { runCli, spawnGateway, type GatewayProcess } from './helpers/cli.js';
import { TestDevice, telemetry } from './helpers/device.js';
import { tempDataDir } from './helpers/gateway.js';
import { SqliteUserRows } from '../gateway/registry/sqlite-user-rows.js';
import { SqliteDeviceRows } from '../gateway/registry/sqlite-device-rows.js';

const READINGS = 60;
const ARCHIVER: IClientOptions = { clientId: 'archiver-1', clean: false, username: 'archiver', password: 'pw', reconnectPeriod: 0 };

// Provisioned through the registries, as the CLI does, without a CLI process per step.
async function provisioned(t: TestContext): Promise<{ dataDir: string; token: string }> {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = openStore(dataDir);
  try {
    const added = await new DeviceRegistry(new SqliteDeviceRows(store), listModelNames(SHIPPED_MODELS_DIR)).add('env-1', 'env-sensor');
    const user = await new UserRegistry(new SqliteUserRows(store)).add('archiver', 'pw', [], ['devices/#']);
    assert.ok(added.ok && user.ok);
    return { dataDir, token: added.value.token };
  } finally {
    store.close();
  }
}

async function start(t: TestContext, dataDir: string): Promise<GatewayProcess> {
  const gateway = await spawnGateway(dataDir);
  t.after(() => gateway.stop());
  return gateway;
}

async function killHard(gateway: GatewayProcess): Promise<void> {
  const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
  gateway.child.kill('SIGKILL');
  await exited;
}

async function connectDevice(gateway: GatewayProcess, dataDir: string, token: string): Promise<TestDevice> {
  const ca = readFileSync(join(dataDir, 'dev-cert.pem'));
  const device = new TestDevice(new WebSocket(gateway.addresses.ws, { ca, headers: { authorization: `Bearer ${token}` } }));
  assert.equal((await device.nextFrame()).type, 'welcome');
  return device;
}

/** Sends readings r-1..r-60 and waits for every ack. */
async function sendAcked(device: TestDevice): Promise<void> {
  for (let i = 1; i <= READINGS; i++) device.send(telemetry(`r-${i}`, { temperature: i, humidity: 50 }));
  const acked = new Set<unknown>();
  while (acked.size < READINGS) {
    const frame = await device.nextFrame();
    assert.equal(frame.type, 'ack', JSON.stringify(frame));
    acked.add(frame.id);
  }
}

/** Reconnects as the archiver's persistent session and collects telemetry ids until it has all 60. */
async function receiveAll(gateway: GatewayProcess): Promise<{ ids: Set<string>; sessionPresent: boolean }> {
  const arrivals = new Arrivals<string>('telemetry');
  const client = mqtt.connect(gateway.addresses.mqtt, ARCHIVER);
  client.on('message', (_topic, payload) => arrivals.push((JSON.parse(payload.toString()) as { id: string }).id));
  const [connack] = (await new Promise((resolve, reject) => {
    client.once('connect', (packet) => resolve([packet]));
    client.once('error', reject);
  })) as [{ sessionPresent: boolean }];
  const ids = new Set<string>();
  try {
    while (ids.size < READINGS) ids.add(await arrivals.next(5000));
  } finally {
    await client.endAsync();
  }
  return { ids, sessionPresent: connack.sessionPresent };
}

async function subscribeArchiver(gateway: GatewayProcess, options: IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(gateway.addresses.mqtt, { ...ARCHIVER, ...options });
  await client.subscribeAsync('devices/+/telemetry', { qos: 1 });
  return client;
}

/** The archiver's session over a raw socket that reads every PUBLISH and never sends a PUBACK. */
async function connectNonAcking(gateway: GatewayProcess): Promise<{ socket: Socket; published: Arrivals<string> }> {
  const url = new URL(gateway.addresses.mqtt);
  const socket = connectTcp(Number(url.port), url.hostname);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const published = new Arrivals<string>('in-flight reading');
  const subacked = new Arrivals<void>('SUBACK');
  parser.on('packet', (packet) => {
    if (packet.cmd === 'publish') published.push((JSON.parse(packet.payload.toString()) as { id: string }).id);
    if (packet.cmd === 'suback') subacked.push();
  });
  socket.on('data', (chunk) => parser.parse(chunk));
  const write = (packet: mqttPacket.Packet): boolean => socket.write(mqttPacket.generate(packet));
  write({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: ARCHIVER.clientId!, clean: false, keepalive: 60, username: 'archiver', password: Buffer.from('pw') });
  write({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'devices/+/telemetry', qos: 1 }] });
  await subacked.next(5000);
  return { socket, published };
}

const expected = new Set(Array.from({ length: READINGS }, (_, i) => `r-${i + 1}`));

test('kill -9 with the archiver offline: its persistent session gets all 60 acked readings after restart', async (t) => {
  const { dataDir, token } = await provisioned(t);
  const first = await start(t, dataDir);
  await (await subscribeArchiver(first)).endAsync();
  const device = await connectDevice(first, dataDir, token);
  await sendAcked(device);
  await killHard(first);

  const second = await start(t, dataDir);
  const { ids, sessionPresent } = await receiveAll(second);
  assert.equal(sessionPresent, true);
  assert.deepEqual(ids, expected);
});

test('kill -9 with the archiver online but not acking: the readings in flight are sent again after restart', async (t) => {
  const { dataDir, token } = await provisioned(t);
  const first = await start(t, dataDir);
  const slow = await connectNonAcking(first);
  t.after(() => slow.socket.destroy());
  const device = await connectDevice(first, dataDir, token);
  await sendAcked(device);
  // It was online: the broker sent it readings, and it acked none of them.
  assert.match(await slow.published.next(5000), /^r-/);
  await killHard(first);

  const second = await start(t, dataDir);
  const { ids } = await receiveAll(second);
  assert.deepEqual(ids, expected);
});

test('graceful restart: the offline session gets its readings and retained state is still there', async (t) => {
  const { dataDir, token } = await provisioned(t);
  const first = await start(t, dataDir);
  await (await subscribeArchiver(first)).endAsync();
  const device = await connectDevice(first, dataDir, token);
  device.send({ type: 'state', id: 's-1', state: { firmware: '2.0.1' } });
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 's-1' });
  await sendAcked(device);
  await first.stop();

  const second = await start(t, dataDir);
  assert.deepEqual((await receiveAll(second)).ids, expected);
  const late = await mqtt.connectAsync(second.addresses.mqtt, { username: 'archiver', password: 'pw', reconnectPeriod: 0 });
  t.after(() => late.end(true));
  const state = new Promise<{ retain: boolean; payload: { state: unknown } }>((resolve) =>
    late.on('message', (_topic, payload, packet) => resolve({ retain: packet.retain, payload: JSON.parse(payload.toString()) as { state: unknown } })),
  );
  await late.subscribeAsync('devices/env-1/state', { qos: 1 });
  const received = await within(state, 5000, 'retained state');
  assert.equal(received.retain, true);
  assert.deepEqual(received.payload.state, { firmware: '2.0.1' });
});

test('kill -9 with a device online: after restart its retained presence says offline, until it reconnects', async (t) => {
  const { dataDir, token } = await provisioned(t);
  const first = await start(t, dataDir);
  await connectDevice(first, dataDir, token);
  const watcher = await mqtt.connectAsync(first.addresses.mqtt, { username: 'archiver', password: 'pw', reconnectPeriod: 0 });
  const before = new Arrivals<{ online: boolean }>('presence');
  watcher.on('message', (_topic, payload) => before.push(JSON.parse(payload.toString()) as { online: boolean }));
  await watcher.subscribeAsync('devices/env-1/presence', { qos: 1 });
  assert.equal((await before.next(5000)).online, true); // retained online presence, as a later crash leaves it
  await killHard(first);
  watcher.end(true);

  const second = await start(t, dataDir);
  const presence = new Arrivals<{ online: boolean; connections: number; since: number; retain: boolean }>('presence');
  const after = await mqtt.connectAsync(second.addresses.mqtt, { username: 'archiver', password: 'pw', reconnectPeriod: 0 });
  t.after(() => after.end(true));
  after.on('message', (_topic, payload, packet) => presence.push({ ...(JSON.parse(payload.toString()) as { online: boolean; connections: number; since: number }), retain: packet.retain }));
  await after.subscribeAsync('devices/env-1/presence', { qos: 1 });
  const corrected = await presence.next(5000);
  assert.deepEqual([corrected.online, corrected.connections, corrected.retain], [false, 0, true]);
  assert.equal(typeof corrected.since, 'number');

  const device = await connectDevice(second, dataDir, token);
  t.after(() => device.close());
  const online = await presence.next(5000);
  assert.deepEqual([online.online, online.connections], [true, 1]);
});

test('a store another process holds locked at start: store_unavailable and exit code 2, not a stack trace', async (t) => {
  const { dataDir } = await provisioned(t);
  const holder = openStore(dataDir);
  t.after(() => holder.close());
  holder.exec('BEGIN IMMEDIATE'); // the write lock, as a second gateway or a stuck tool would hold it
  const run = await runCli(['start', '--dev', '--json', '--data-dir', dataDir, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0']);
  holder.exec('ROLLBACK');
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^store_unavailable: cannot write the gateway store .*SQLITE_BUSY/m);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
});

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
