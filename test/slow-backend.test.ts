// One backend that stops reading its socket hurts only itself: it is cut after
// mqtt.drainTimeoutMs, and devices and the other backends keep going.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { CONNACK, SUBACK, connectPacket, subscribePacket } from '../bench/load/mqtt-packets.js';
import { subscribedBackend } from './helpers/backend.js';
import { provision, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

const DEVICES = 4;
const READINGS = 6000;
const WINDOW = 32;

/** A raw MQTT client that subscribes and then never reads its socket again. */
async function stalledSubscriber(gw: TestGateway, filter: string): Promise<() => void> {
  await gw.users.add('stalled', 'pw-stalled', [], [filter]);
  const url = new URL(gw.addresses.mqtt);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  const packets: number[] = [];
  socket.on('data', (chunk: Buffer) => packets.push(chunk[0]! >> 4));
  socket.write(connectPacket('stalled-1', { url: gw.addresses.mqtt, username: 'stalled', password: 'pw-stalled' }));
  await waitFor('CONNACK', () => packets.includes(CONNACK), 5000);
  socket.write(subscribePacket(filter));
  await waitFor('SUBACK', () => packets.includes(SUBACK), 5000);
  socket.removeAllListeners('data');
  socket.pause();
  socket.on('error', () => undefined); // the gateway cuts it: that is the point
  return () => socket.destroy();
}

/** A device that keeps WINDOW readings unacked until it has sent `count`; resolves with the ids acked. */
function streamReadings(gw: TestGateway, device: string, token: string, count: number): Promise<number> {
  const ws = new WebSocket(gw.addresses.ws, { ca: gw.ca, headers: { authorization: `Bearer ${token}` } });
  let sent = 0;
  let acked = 0;
  const sendOne = () => ws.send(JSON.stringify({ type: 'telemetry', id: `${device}-${++sent}`, data: { temperature: 20, humidity: 50 } }));
  return new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', (code) => reject(new Error(`${device} closed ${code} after ${acked} acks`)));
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string };
      if (frame.type === 'welcome') {
        while (sent < WINDOW) sendOne();
        return;
      }
      if (frame.type !== 'ack') return reject(new Error(`${device}: ${data.toString()}`));
      if (++acked === count) {
        ws.removeAllListeners('close');
        ws.close();
        return resolve(acked);
      }
      if (sent < count) sendOne();
    });
  });
}

test('a stalled devices/# subscriber is cut with slow_consumer; 4 devices x 6,000 readings are all acked and delivered to a healthy backend', async (t) => {
  const lines: string[] = [];
  // 24,000 readings are ~6 MB: the kernel's socket buffers plus the default 1 MiB of
  // mqtt.writeBufferBytes could hold them all, and nothing would ever wait for a drain.
  const gw = await startTestGateway(
    { log: { level: 'warn' }, limits: { messagesPerSec: 1_000_000, burst: 1_000_000 }, mqtt: { writeBufferBytes: 65_536 } },
    undefined,
    (line) => lines.push(line),
  );
  t.after(() => gw.close());
  const stop = await stalledSubscriber(gw, 'devices/#');
  t.after(stop);
  const healthy = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => healthy.close());
  const received = new Set<string>();
  healthy.client.on('message', (_topic, payload) => received.add((JSON.parse(payload.toString()) as { id: string }).id));

  const started = Date.now();
  const tokens = await Promise.all(Array.from({ length: DEVICES }, (_, i) => provision(gw, `dev-${i}`)));
  const streams = tokens.map((token, i) => streamReadings(gw, `dev-${i}`, token, READINGS));
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('not all acked within 30 s')), 30_000).unref());
  const acked = await Promise.race([Promise.all(streams), deadline]);
  const elapsedMs = Date.now() - started;
  assert.deepEqual(acked, Array(DEVICES).fill(READINGS));
  await waitFor('the healthy backend to receive every reading', () => received.size === DEVICES * READINGS, 10_000);
  assert.ok(lines.some((line) => line.includes('"code":"slow_consumer"')), 'the cut is logged with slow_consumer');
  const health = (await (await fetch(`${gw.addresses.http}/healthz`)).json()) as { counters: Record<string, number> };
  assert.equal(health.counters.slow_consumer, 1);
  t.diagnostic(`24,000 readings acked in ${elapsedMs} ms with a stalled subscriber`);
});
