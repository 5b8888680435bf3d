import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisDeviceRows } from '../../gateway/cluster/redis-device-rows.js';
import { RedisUserRows } from '../../gateway/cluster/redis-user-rows.js';
import { SHIPPED_MODELS_DIR, listModelNames } from '../../gateway/models/load-models.js';
import { DeviceRegistry } from '../../gateway/registry/devices.js';
import { UserRegistry } from '../../gateway/registry/users.js';
import { DEV_CERT_FILE } from '../../gateway/tls/load-certificate.js';
import type { BenchDevice } from '../load/task.js';
import { REPO_ROOT } from '../paths.js';
import { BENCH_BACKEND, envFor } from './gateway.js';
import { deviceIds, type Peer } from './peer.js';
import { firstJsonLine, freePort, spawnServer, stopProcess, which } from './process.js';

/**
 * Redis cuts a pub/sub subscriber whose unread output passes 32 MiB (8 MiB for 60 s) by
 * default, and every message on the bus to that node is lost until it resubscribes:
 * docs/scale-out.md tells operators to lift it, and so does the bench.
 */
export const REDIS_BUS_LIMITS = ['--client-output-buffer-limit', 'pubsub 0 0 0'];

/** The primary's worker processes (Linux), for the CPU sum. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Our gateway over a real redis-server (`cluster.redis`), one node or `start --workers N`,
 * pinned like every server here. Redis runs with AOF (appendfsync everysec, its default
 * durability) on the same core, and its CPU is part of the figure.
 */
export function clusterGatewayPeer(workers: number): Peer {
  const redisServer = which('redis-server');
  return {
    name: workers > 1 ? `ours-workers${workers}` : 'ours-redis',
    label: workers > 1 ? `ws-mqtt-gateway, --workers ${workers} over Redis` : 'ws-mqtt-gateway, one node over Redis',
    transport: 'WSS (TLS)',
    scenarios: ['cluster'],
    fullOnly: ['cluster'],
    unavailable: () => (redisServer ? undefined : 'redis-server not installed (apt-get install redis-server)'),
    async start({ devices, scenario }) {
      const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
      const port = await freePort();
      const redis = spawnServer(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', ...REDIS_BUS_LIMITS]);
      const url = `redis://127.0.0.1:${port}`;
      const client = new Redis(url, { maxRetriesPerRequest: 50 });
      let gateway: ReturnType<typeof spawnServer> | undefined;
      try {
        const bench = await provision(client, devices);
        gateway = spawnServer(
          process.execPath,
          // BENCH_GATEWAY_NODE_ARGS as for the embedded gateway (bench/peers/gateway.ts); with --workers it profiles the primary only
          [...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []), join(REPO_ROOT, 'dist', 'bin', 'ws-mqtt-gateway.js'), 'start', '--dev', '--json', '--workers', String(workers), '--data-dir', dir, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0'],
          { ...envFor(scenario), WMG_CLUSTER_REDIS: url },
        );
        const addresses = await firstJsonLine<{ ws: string; mqtt: string }>(gateway, 60_000);
        const backend = { url: addresses.mqtt, ...BENCH_BACKEND };
        const primary = gateway.pid!;
        return {
          target: { driver: 'gateway', deviceUrl: addresses.ws, ca: readFileSync(join(dir, DEV_CERT_FILE), 'utf8'), devices: bench, subscriber: backend },
          backend,
          pid: primary,
          processes: () => [
            { name: workers > 1 ? 'primary' : 'gateway', pid: primary },
            ...childrenOf(primary).map((pid, i) => ({ name: `worker ${i + 1}`, pid })),
            { name: 'redis', pid: redis.pid! },
          ],
          async stop() {
            await stopProcess(gateway!);
            client.disconnect();
            await stopProcess(redis);
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch (err) {
        if (gateway) await stopProcess(gateway);
        client.disconnect();
        await stopProcess(redis);
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    },
  };
}

async function provision(redis: Redis, count: number): Promise<BenchDevice[]> {
  const user = await new UserRegistry(new RedisUserRows(redis)).add(BENCH_BACKEND.username, BENCH_BACKEND.password, ['devices/+/commands'], ['devices/#']);
  if (!user.ok) throw new Error(`bench user: ${user.error.code}`);
  const registry = new DeviceRegistry(new RedisDeviceRows(redis), listModelNames(SHIPPED_MODELS_DIR));
  return Promise.all(
    deviceIds(count).map(async ({ id }) => {
      const issued = await registry.add(id, 'env-sensor');
      if (!issued.ok) throw new Error(`provision ${id}: ${issued.error.code}`);
      return { id, token: issued.value.token };
    }),
  );
}
