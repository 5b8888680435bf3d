// Sockets that never finish TLS or the upgrade cannot pile up: each is destroyed
// after auth.timeoutMs, and at most limits.maxPendingHandshakes exist at once.
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'node:test';
import { connectDevice } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

/** Resolves with the time from `since` (default: the socket's TCP connect, when the gateway's clock starts) until it was closed. */
function closedAfter(socket: Socket, since?: number): Promise<number> {
  let from = since ?? Date.now();
  if (since === undefined) socket.once('connect', () => (from = Date.now()));
  return new Promise((resolve) => {
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(Date.now() - from));
  });
}

test('300 silent sockets (plain TCP, and TLS without the upgrade) are all closed within auth.timeoutMs + 2 s; devices still connect meanwhile', async (t) => {
  const gw = await startTestGateway({ auth: { timeoutMs: 2000 } });
  t.after(() => gw.close());
  const { hostname, port } = new URL(gw.addresses.ws);
  const closes: Promise<number>[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < 150; i++) {
    const plain = tcpConnect({ host: hostname, port: Number(port) });
    sockets.push(plain);
    closes.push(closedAfter(plain));
    const tls = tlsConnect({ host: hostname, port: Number(port), ca: gw.ca, servername: 'localhost' });
    sockets.push(tls);
    closes.push(closedAfter(tls));
  }
  t.after(() => sockets.forEach((s) => s.destroy()));
  // A real device is not crowded out by them.
  const device = await connectDevice(gw, await provision(gw, 'dev-1'));
  const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('silent sockets still open after 6 s')), 6000).unref());
  const times = await Promise.race([Promise.all(closes), deadline]);
  const slowest = Math.max(...times);
  t.diagnostic(`300 silent sockets closed after ${Math.min(...times)}-${slowest} ms`);
  assert.ok(slowest <= 2000 + 2000, `slowest close after ${slowest} ms`);
  const health = (await (await fetch(`${gw.addresses.http}/healthz`)).json()) as { connections: number; counters: Record<string, number> };
  assert.equal(health.counters.handshake_timeout, 300);
  assert.equal(health.connections, 1, 'the device that upgraded is still connected');
  await device.close();
});

test('past limits.maxPendingHandshakes a new socket is closed at once and counted; once they are gone devices connect again', async (t) => {
  const gw = await startTestGateway({ auth: { timeoutMs: 1000 }, limits: { maxPendingHandshakes: 10 } });
  t.after(() => gw.close());
  const { hostname, port } = new URL(gw.addresses.ws);
  const silent: Socket[] = [];
  for (let i = 0; i < 10; i++) silent.push(tcpConnect({ host: hostname, port: Number(port) }).on('error', () => undefined));
  t.after(() => silent.forEach((s) => s.destroy()));
  await Promise.all(silent.map((s) => new Promise((resolve) => s.once('connect', resolve))));
  const extra = tcpConnect({ host: hostname, port: Number(port) });
  const started = Date.now();
  const extraClosedMs = await closedAfter(extra, started);
  assert.ok(extraClosedMs < 900, `the 11th socket was closed after ${extraClosedMs} ms, not by the handshake timeout`);
  const health = (await (await fetch(`${gw.addresses.http}/healthz`)).json()) as { counters: Record<string, number> };
  assert.equal(health.counters.too_many_handshakes, 1);
  // The silent ones time out, and the slots are free again.
  await Promise.all(silent.map((s) => closedAfter(s, started)));
  const device = await connectDevice(gw, await provision(gw, 'dev-1'));
  await device.close();
});
