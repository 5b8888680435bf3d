// `start --workers N`: N gateway processes on one host sharing the ports, over a real Redis.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEV_CERT_FILE } from '../gateway/tls/load-certificate.js';
import { GATEWAY_BIN, runCli } from './helpers/cli.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice } from './helpers/device.js';
import { tempDataDir } from './helpers/gateway.js';
import { skipWithoutRedis, startRedis } from './helpers/redis-server.js';

const EPHEMERAL = ['--ws-port', '0', '--mqtt-port', '0', '--http-port', '0'];

/** /healthz on a fresh TCP connection, so the primary hands it to any worker. */
function health(url: string): Promise<{ node: string }> {
  return new Promise((resolve, reject) => {
    get(`${url}/healthz`, { agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { node: string }));
    }).on('error', reject);
  });
}

async function nodesSeen(url: string, requests: number): Promise<Set<string>> {
  const nodes = new Set<string>();
  for (let i = 0; i < requests; i++) nodes.add((await health(url)).node);
  return nodes;
}

test('--workers above 1 without cluster.redis refuses to start (exit 2, names the key)', async () => {
  const result = await runCli(['start', '--dev', '--workers', '2', '--data-dir', tempDataDir(), ...EPHEMERAL]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--workers 2 needs cluster\.redis/);
});

test('cluster.redis that cannot be reached at start: exit 2 with a clear message, without the password', async () => {
  const result = await runCli(['start', '--dev', '--data-dir', tempDataDir(), ...EPHEMERAL], { env: { WMG_CLUSTER_REDIS: 'redis://user:secret-pw@127.0.0.1:1' } });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /store_unavailable: cannot reach Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1/);
  assert.doesNotMatch(result.stderr, /secret-pw/);
});

test('start --workers 2: one JSON line, both workers serve the shared ports, a killed worker is replaced, SIGTERM stops all with 1001 and exit 0', { skip: skipWithoutRedis }, async (t) => {
  const redis = await startRedis(t);
  const dataDir = tempDataDir();
  const env = { ...process.env, WMG_CLUSTER_REDIS: redis.url };
  const primary = spawn(process.execPath, [GATEWAY_BIN, 'start', '--dev', '--json', '--workers', '2', '--data-dir', dataDir, ...EPHEMERAL], { env });
  t.after(() => primary.exitCode === null && primary.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  primary.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  primary.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!stdout.includes('\n')) {
    assert.ok(Date.now() < deadline && primary.exitCode === null, `no address line: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const addresses = JSON.parse(stdout) as { ws: string; mqtt: string; http: string };
  assert.deepEqual(Object.keys(addresses).sort(), ['http', 'mqtt', 'ws']);

  const seen = await nodesSeen(addresses.http, 20);
  assert.equal(seen.size, 2, `requests reached ${[...seen].join(', ')}`);
  const added = await runCli(['devices', 'add', 'env-1', '--model', 'env-sensor', '--json', '--data-dir', dataDir], { env });
  const { token } = JSON.parse(added.stdout) as { token: string };
  const target = { addresses, ca: readFileSync(join(dataDir, DEV_CERT_FILE)) };

  const victim = [...seen][0]!;
  const pid = Number(victim.split('-').at(-2));
  process.kill(pid, 'SIGKILL');
  const replaced = Date.now() + 15_000;
  for (;;) {
    const now = await nodesSeen(addresses.http, 10);
    if (now.size === 2 && !now.has(victim)) break;
    assert.ok(Date.now() < replaced, `worker ${pid} not replaced: ${[...now].join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.match(stderr, /"code":"worker_died"/);

  const devices = await Promise.all([1, 2, 3, 4].map(() => connectDevice(target, token).catch((err: Error) => err)));
  const live = devices.filter((d) => !(d instanceof Error));
  assert.ok(live.length >= 1, 'devices connect through the shared port');
  const closes = live.map((d) => (d as Awaited<ReturnType<typeof connectDevice>>).closed);
  const exited = once(primary, 'exit');
  primary.kill('SIGTERM');
  const [code] = (await withDeadline(exited, 15_000, 'primary exit')) as [number];
  assert.equal(code, 0, stderr);
  // Under takeover only the newest of the four stays open; it is closed with 1001 at shutdown.
  const codes = await Promise.all(closes);
  assert.ok(codes.some(({ code }) => code === 1001), JSON.stringify(codes));
});
