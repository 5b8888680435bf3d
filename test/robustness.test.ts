// Bad input from one client never crashes the gateway or costs another device
// a message: the neighbour's stream stays complete and in order throughout.
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'node:test';
import { subscribedBackend } from './helpers/backend.js';
import { connectDevice, openDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

function rawBytes(port: number, bytes: Buffer, secure: boolean, ca?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = secure ? tlsConnect({ port, host: '127.0.0.1', ca, servername: 'localhost' }) : tcpConnect({ port, host: '127.0.0.1' });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      socket.write(bytes);
      setTimeout(() => socket.destroy(), 50);
    });
  });
}

test('the gateway survives every kind of bad input while another device keeps streaming without loss', async (t) => {
  const gw = await startTestGateway({ limits: { maxFrameBytes: 8192 }, auth: { timeoutMs: 300 } });
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/good-1/telemetry');
  t.after(() => backend.close());
  const good = await connectDevice(gw, await provision(gw, 'good-1'));
  const evilToken = await provision(gw, 'evil-1');
  const wsPort = Number(new URL(gw.addresses.ws).port);
  const mqttPort = Number(new URL(gw.addresses.mqtt).port);

  let sent = 0;
  const sendGood = () => good.send(telemetry(`g-${++sent}`, { temperature: 20, humidity: 50 }));

  const attacks: Array<() => Promise<unknown>> = [
    async () => {
      const evil = await connectDevice(gw, evilToken);
      for (const frame of [
        '{', 'null', '"str"', '123', '{"type":null}', '{"type":"hello","token":"x"}', '{"type":"telemetry","id":{"$gt":1},"data":{}}',
        '{"type":"telemetry","id":"x","data":' + '['.repeat(3000) + ']'.repeat(3000) + '}',
        '{"type":"state","id":"s","state":{"__proto__":{"polluted":true}}}',
        Buffer.from([0xff, 0xfe, 0xfd]).toString('latin1'),
      ]) {
        evil.send(frame);
        sendGood();
        assert.equal((await evil.nextFrame()).type, 'error');
      }
      evil.ws.send(Buffer.alloc(100, 7), { binary: true });
      assert.equal((await evil.nextFrame()).code, 'bad_frame');
      evil.send('x'.repeat(9000));
      assert.equal((await evil.closed).code, 1009);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    },
    async () => (await openDevice(gw, 'wmg_guess')).closed,
    async () => (await openDevice(gw, undefined)).closed,
    () => rawBytes(wsPort, Buffer.from('GET /v1/device HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'), false),
    () => rawBytes(wsPort, Buffer.from('\x16\x03\x01\x00\xffgarbage'), false),
    () => rawBytes(wsPort, Buffer.from('GET /v1/device HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n'), true, gw.ca),
    () => rawBytes(mqttPort, Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]), false),
    () => rawBytes(mqttPort, Buffer.from('\x30\x05\x00\x03a/#x'), false),
  ];
  for (const attack of attacks) {
    await attack();
    sendGood();
  }

  const acked = new Set<unknown>();
  while (acked.size < sent) {
    const frame = await good.nextFrame();
    assert.equal(frame.type, 'ack');
    acked.add(frame.id);
  }
  const published = [];
  for (let i = 0; i < sent; i++) published.push((await backend.nextMessage()).payload.id);
  assert.deepEqual(published, Array.from({ length: sent }, (_, i) => `g-${i + 1}`));
  const health = (await (await fetch(`${gw.addresses.http}/healthz`)).json()) as { connections: number };
  assert.equal(health.connections, 1, 'only the good device is left');
  await good.close();
});
