// A device that floods the gateway, or never reads what it is sent, costs only
// itself: its neighbours' acks stay fast, memory stays bounded, dead letters stay
// within the budget, and the gateway closes it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { connectTestBackend } from './helpers/backend.js';
import { connectDevice, telemetry, type DeviceTarget } from './helpers/device.js';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DeviceRegistry } from '../gateway/registry/devices.js';
import { UserRegistry } from '../gateway/registry/users.js';
import { openStore } from '../gateway/store/open-store.js';
import { DEV_CERT_FILE } from '../gateway/tls/load-certificate.js';
import { spawnGateway, type GatewayProcess } from './helpers/cli.js';
import { tempDataDir } from './helpers/gateway.js';
import { SqliteDeviceRows } from '../gateway/registry/sqlite-device-rows.js';
import { SqliteUserRows } from '../gateway/registry/sqlite-user-rows.js';

const MiB = 1024 * 1024;

/** Writes `frame` as fast as the socket takes it (or `perTick` per millisecond), reading nothing, reconnecting whenever the gateway closes it, until `stop`. */
function floodUntil(
  gw: DeviceTarget,
  token: string,
  frame: string | (() => string),
  stop: Promise<void>,
  onClose: () => void = () => undefined,
  /** Frames written per 1 ms timer tick at most (unbounded: as fast as the socket takes them). */
  perTick = Infinity,
): Promise<{ frames: number; connections: number; closeCodes: number[] }> {
  let running = true;
  void stop.then(() => (running = false));
  const result = { frames: 0, connections: 0, closeCodes: [] as number[] };
  const next = typeof frame === 'string' ? () => frame : frame;
  return new Promise((resolve) => {
    const open = () => {
      if (!running) return resolve(result);
      result.connections++;
      const ws = new WebSocket(gw.addresses.ws, { ca: gw.ca, headers: { authorization: `Bearer ${token}` } });
      ws.on('error', () => undefined);
      ws.on('close', (code) => {
        result.closeCodes.push(code);
        onClose();
        open();
      });
      ws.once('open', () => {
        ws.pause(); // never read: not the welcome, not the errors, not the close frame
        const pump = () => {
          if (ws.readyState !== ws.OPEN) return;
          if (!running) return ws.terminate();
          for (let i = 0; i < perTick && ws.bufferedAmount < MiB; i++) {
            ws.send(next());
            result.frames++;
          }
          setTimeout(pump, 1);
        };
        pump();
      });
    };
    open();
  });
}

/** A well-behaved neighbour: one reading every 50 ms; resolves with the slowest ack. */
async function neighbourAcks(gw: DeviceTarget, token: string, stop: Promise<void>): Promise<{ acked: number; maxMs: number }> {
  const device = await connectDevice(gw, token);
  let running = true;
  void stop.then(() => (running = false));
  let acked = 0;
  let maxMs = 0;
  for (let i = 0; running; i++) {
    const sentAt = performance.now();
    device.send(telemetry(`g-${i}`, { temperature: 20, humidity: 50 }));
    const ack = await device.nextFrame(5000);
    assert.deepEqual(ack, { type: 'ack', id: `g-${i}` });
    maxMs = Math.max(maxMs, performance.now() - sentAt);
    acked++;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await device.close();
  return { acked, maxMs };
}

/**
 * A gateway in its own process, as in production: its event loop, RSS and CPU are its own
 * and not shared with the flooding clients of the test. `devices` and the MQTT `users`
 * (subscribe ACLs) are provisioned before it starts.
 */
async function spawnFor(
  t: { after(fn: () => unknown): void },
  devices: string[],
  { env = {}, users = {} }: { env?: NodeJS.ProcessEnv; users?: Record<string, string[]> } = {},
): Promise<{ gateway: GatewayProcess; gw: DeviceTarget; tokens: Map<string, string> }> {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = openStore(dataDir);
  const registry = new DeviceRegistry(new SqliteDeviceRows(store), ['env-sensor']);
  const tokens = new Map<string, string>();
  for (const device of devices) {
    const added = await registry.add(device, 'env-sensor');
    assert.ok(added.ok);
    tokens.set(device, added.value.token);
  }
  const userRows = new UserRegistry(new SqliteUserRows(store));
  for (const [name, sub] of Object.entries(users)) assert.ok((await userRows.add(name, `pw-${name}`, [], sub)).ok);
  store.close();
  const gateway = await spawnGateway(dataDir, [], env);
  t.after(() => gateway.stop());
  return { gateway, gw: { addresses: gateway.addresses, ca: readFileSync(join(dataDir, DEV_CERT_FILE)) }, tokens };
}

/** Counts what a subscriber receives; `settled()` gives the total once nothing came for 500 ms (at most 5 s). */
async function countMessages(t: { after(fn: () => unknown): void }, url: string, user: string, filter: string): Promise<{ settled(): Promise<number> }> {
  const backend = await connectTestBackend(url, { username: user, password: `pw-${user}` });
  t.after(() => backend.close());
  let count = 0;
  let lastAt = performance.now();
  backend.client.on('message', () => {
    count++;
    lastAt = performance.now();
  });
  await backend.subscribe(filter);
  return {
    async settled() {
      const until = performance.now() + 5000;
      while (performance.now() - lastAt < 500 && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
      return count;
    },
  };
}

test('a device flooding 1 KiB frames of broken JSON for 8 s: neighbour acks < 1 s, RSS + < 150 MiB, dead letters within budget, the flooder closed', async (t) => {
  const { gateway, gw, tokens } = await spawnFor(t, ['evil-1', 'good-1'], { users: { 'dead-letters': ['gateway/deadletter/#'] } });
  const deadLetters = await countMessages(t, gateway.addresses.mqtt, 'dead-letters', 'gateway/deadletter/#');
  const rssBefore = rssOf(gateway.child.pid!);
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(gateway.child.pid!))), 100);
  t.after(() => clearInterval(sampler));

  const stop = new Promise<void>((resolve) => setTimeout(resolve, 8000));
  const [flood, neighbour] = await Promise.all([
    // ~20 MiB/s of frames, 1,000× the refusal budget: the test's own process (the attacker) then
    // leaves the gateway the machine's CPU, as an attacker elsewhere would; flat out, on two
    // cores shared with other test files, it starved the gateway's process along with its neighbour.
    floodUntil(gw, tokens.get('evil-1')!, `{"type":"telemetry","data":${'['.repeat(1000)}`, stop, undefined, 20),
    neighbourAcks(gw, tokens.get('good-1')!, stop),
  ]);
  clearInterval(sampler);
  const deadLettered = await deadLetters.settled();
  // Default budgets: dead letters 10/s with a burst of 20, over 8 s.
  const bound = 2 * (20 + 10 * 8);
  t.diagnostic(
    `flooder: ${flood.frames} frames over ${flood.connections} connections (closes ${flood.closeCodes.join(',')}); ` +
      `neighbour: ${neighbour.acked} acks, slowest ${neighbour.maxMs.toFixed(1)} ms; dead letters ${deadLettered} (bound ${bound}); ` +
      `RSS +${((peakRss - rssBefore) / MiB).toFixed(0)} MiB`,
  );
  assert.ok(neighbour.maxMs < 1000, `slowest neighbour ack ${neighbour.maxMs} ms`);
  assert.ok(neighbour.acked >= 10, `${neighbour.acked} neighbour acks`);
  assert.ok(deadLettered >= 1 && deadLettered <= bound, `${deadLettered} dead letters`);
  assert.ok(peakRss - rssBefore < 150 * MiB, `RSS grew ${(peakRss - rssBefore) / MiB} MiB`);
  // The gateway closed it (1006 here: the flooder never read the 4429 close frame, so the socket was cut).
  assert.ok(flood.connections >= 2, 'the flooder was disconnected and had to reconnect');
  const health = (await (await fetch(`${gateway.addresses.http}/healthz`)).json()) as { counters: Record<string, number> };
  assert.ok(health.counters.flooding! >= 1);
});

test('a device that sends valid telemetry and never reads is no longer read past limits.maxBufferedBytes, then closed: gateway RSS + < 100 MiB', async (t) => {
  const { gateway, gw, tokens } = await spawnFor(t, ['reader-less'], {
    env: { WMG_DEVICES_HEARTBEAT_MS: '2000', WMG_LIMITS_MESSAGES_PER_SEC: '1000000', WMG_LIMITS_BURST: '1000000' },
  });
  const rssBefore = rssOf(gateway.child.pid!);
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(gateway.child.pid!))), 100);
  t.after(() => clearInterval(sampler));

  let n = 0;
  let firstClose!: () => void;
  const stop = new Promise<void>((resolve) => (firstClose = resolve));
  const deadline = setTimeout(firstClose, 20_000);
  t.after(() => clearTimeout(deadline));
  const frame = () => JSON.stringify({ type: 'telemetry', id: `m-${++n}`, data: { temperature: 20, humidity: 50 } });
  const flood = floodUntil(gw, tokens.get('reader-less')!, () => (n >= 600_000 ? '{}' : frame()), stop, firstClose);
  const result = await flood;
  t.diagnostic(`device wrote ${result.frames} frames into its socket; gateway RSS +${((peakRss - rssBefore) / MiB).toFixed(0)} MiB; close ${result.closeCodes.join(',')}`);
  assert.ok(peakRss - rssBefore < 100 * MiB, `gateway RSS grew ${(peakRss - rssBefore) / MiB} MiB`);
  clearInterval(sampler);
  await gateway.stop();
  // Closed by the gateway: as slow_consumer once over the bound for a heartbeat interval, or, when its
  // kernel buffers took long to fill (a loaded machine), for the pings it never answered either.
  assert.ok(result.closeCodes.length >= 1, 'the gateway closed it');
  assert.match(gateway.stderr(), /"code":"slow_consumer"|"device disconnected"/);
});

function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}
