// Behind nginx, HAProxy or a cloud load balancer that terminates TLS, the gateway serves
// devices plain ws:// (ws.tlsOffload, flag --tls-offload). TLS stays the default; this
// mode must be asked for, says so in the log, and needs no certificate of its own.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { connect as connectTcp, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import selfsigned from 'selfsigned';
import { WebSocket } from 'ws';
import { DEV_CERT_FILE } from '../gateway/tls/load-certificate.js';
import { subscribedBackend } from './helpers/backend.js';
import { runCli, spawnGateway } from './helpers/cli.js';
import { TestDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway, tempDataDir } from './helpers/gateway.js';

/** The operator's TLS terminator: decrypts and forwards the bytes to the gateway's plain port. */
async function startTlsProxy(targetPort: number): Promise<{ port: number; ca: string; close(): void }> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const server = createTlsServer({ cert: pems.cert, key: pems.private }, (clear) => {
    const upstream = connectTcp(targetPort, '127.0.0.1');
    clear.on('error', () => upstream.destroy());
    upstream.on('error', () => clear.destroy());
    clear.pipe(upstream).pipe(clear);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, ca: pems.cert, close: () => server.close() };
}

async function welcomed(ws: WebSocket): Promise<TestDevice> {
  const device = new TestDevice(ws);
  const welcome = await device.nextFrame();
  assert.equal(welcome.type, 'welcome');
  return device;
}

test('with ws.tlsOffload a device behind a TLS-terminating proxy is welcomed and its telemetry reaches MQTT; no certificate is made', async (t) => {
  const gw = await startTestGateway({ ws: { port: 0, tlsOffload: true } });
  t.after(() => gw.close());
  assert.match(gw.addresses.ws, /^ws:\/\/127\.0\.0\.1:\d+\/v1\/device$/);
  assert.equal(existsSync(join(gw.dataDir, DEV_CERT_FILE)), false, 'no certificate when nothing serves TLS');
  const proxy = await startTlsProxy(Number(new URL(gw.addresses.ws).port));
  t.after(() => proxy.close());

  const token = await provision(gw, 'edge-1');
  const backend = await subscribedBackend(gw, 'devices/edge-1/telemetry');
  t.after(() => backend.close());
  const device = await welcomed(new WebSocket(`wss://127.0.0.1:${proxy.port}/v1/device`, { ca: proxy.ca, headers: { authorization: `Bearer ${token}` } }));
  t.after(() => device.close());
  device.send(telemetry('t-1', { temperature: 21.5, humidity: 40 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 't-1' });
  const message = await backend.nextMessage();
  assert.equal(message.topic, 'devices/edge-1/telemetry');
  assert.deepEqual(message.payload.data, { temperature: 21.5, humidity: 40 });
});

test('behind the proxy the log names the address the proxy appended to X-Forwarded-For, not one the client wrote', async (t) => {
  const lines: string[] = [];
  const gw = await startTestGateway({ ws: { port: 0, tlsOffload: true }, log: { level: 'info' } }, tempDataDir(), (line) => lines.push(line));
  t.after(() => gw.close());
  assert.ok(lines.some((line) => line.includes('plain ws://') && line.includes('"level":"warn"')), 'startup warns that the listener is plain');
  const token = await provision(gw, 'edge-2');
  const headers = { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };
  const device = await welcomed(new WebSocket(gw.addresses.ws, { headers }));
  t.after(() => device.close());
  const connected = lines.map((line) => JSON.parse(line) as { msg: string; device?: string; remote?: string }).find((entry) => entry.msg === 'device connected');
  assert.match(connected?.remote ?? '', /^198\.51\.100\.7 via 127\.0\.0\.1:\d+$/);
});

test('without ws.tlsOffload the device listener speaks only TLS: a plain ws:// client is not welcomed', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const token = await provision(gw, 'edge-3');
  const ws = new WebSocket(gw.addresses.ws.replace('wss://', 'ws://'), { headers: { authorization: `Bearer ${token}` } });
  const outcome = await new Promise<string>((resolve) => {
    ws.once('message', () => resolve('welcomed'));
    ws.once('error', (err) => resolve(`error: ${err.message}`));
  });
  ws.terminate();
  assert.match(outcome, /^error: /);
});

test('start --tls-offload needs no certificate and prints a ws:// address; with mqtt.tlsPort it still needs one (exit 2)', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const gw = await spawnGateway(dataDir, ['--tls-offload'], {}, { dev: false });
  t.after(() => gw.stop());
  assert.match(gw.addresses.ws, /^ws:\/\/127\.0\.0\.1:\d+\/v1\/device$/);
  assert.match(gw.stderr(), /plain ws:\/\//);
  await gw.stop();

  const refused = await runCli(['start', '--tls-offload', '--data-dir', dataDir, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0'], { env: { WMG_MQTT_TLS_PORT: '0' } });
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /TLS is required: set tls.cert and tls.key/);
});
