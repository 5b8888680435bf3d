// Revoke, rotate and user removal made through one handle reach a watcher elsewhere
// within 1 s, over the embedded store's change log and over the Redis stream alike;
// the Redis feed also outlives a Redis restart.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { watchRedisChanges } from '../gateway/cluster/redis-changes.js';
import { RedisDeviceRows } from '../gateway/cluster/redis-device-rows.js';
import { RedisUserRows } from '../gateway/cluster/redis-user-rows.js';
import { createLogger, type Logger } from '../gateway/log.js';
import type { RegistryChange } from '../gateway/registry/changes.js';
import { DeviceRegistry } from '../gateway/registry/devices.js';
import { SqliteDeviceRows } from '../gateway/registry/sqlite-device-rows.js';
import { SqliteUserRows } from '../gateway/registry/sqlite-user-rows.js';
import { UserRegistry } from '../gateway/registry/users.js';
import { watchRegistryChanges } from '../gateway/registry/watch-changes.js';
import { tempDataDir } from './helpers/gateway.js';
import { skipWithoutRedis } from './helpers/redis-server.js';
import { redisStore, sqliteStore, type RedisStore } from './helpers/stores.js';
import { waitFor } from './helpers/wait-for.js';

type OnChange = (change: RegistryChange) => Promise<void>;

interface Feed {
  devices: DeviceRegistry;
  users: UserRegistry;
  /** Starts a watcher on its own handle (another SQLite connection, another Redis connection). */
  watch(log: Logger, onChange: OnChange): () => void;
}

const MODELS = ['env-sensor'];
// The gateway's poll interval for the embedded store (server.ts REGISTRY_POLL_MS).
const SQLITE_POLL_MS = 250;

function redisFeed(server: RedisStore): Feed {
  const redis = server.connect();
  return {
    devices: new DeviceRegistry(new RedisDeviceRows(redis), MODELS),
    users: new UserRegistry(new RedisUserRows(redis)),
    watch: (log, onChange) => watchRedisChanges(redis, log, onChange),
  };
}

const backends: Array<{ name: string; skip: string | false; open(t: TestContext): Promise<Feed> }> = [
  {
    name: 'sqlite',
    skip: false,
    async open(t) {
      const dir = tempDataDir();
      const [store, watched] = [sqliteStore(t, dir), sqliteStore(t, dir)];
      return {
        devices: new DeviceRegistry(new SqliteDeviceRows(store), MODELS),
        users: new UserRegistry(new SqliteUserRows(store)),
        watch: (log, onChange) => watchRegistryChanges(watched, SQLITE_POLL_MS, log, onChange),
      };
    },
  },
  { name: 'redis', skip: skipWithoutRedis, open: async (t) => redisFeed(await redisStore(t)) },
];

function capture(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { log: createLogger('debug', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)), lines };
}

/** Watches, recording each change with how long after `since()` it arrived. */
function record(t: TestContext, feed: Feed, log: Logger, since: () => number, fail?: (change: RegistryChange) => boolean) {
  const seen: Array<{ kind: string; subject: string; lagMs: number }> = [];
  const stop = feed.watch(log, async (change) => {
    seen.push({ kind: change.kind, subject: change.subject, lagMs: Date.now() - since() });
    if (fail?.(change)) throw new Error('enforcement failed');
  });
  t.after(stop);
  return seen;
}

const cases: Array<{ name: string; run(t: TestContext, feed: Feed): Promise<void> }> = [
  {
    name: 'revoke, rotate and user removal reach the watcher within 1 s each, and earlier changes do not',
    async run(t, feed) {
      assert.ok((await feed.devices.add('env-1', 'env-sensor')).ok);
      assert.ok((await feed.devices.add('env-2', 'env-sensor')).ok);
      assert.ok((await feed.users.add('ops', 'pw', [], ['devices/#'])).ok);
      assert.ok((await feed.devices.revoke('env-2')).ok); // before the watcher starts
      let madeAt = Date.now();
      const seen = record(t, feed, capture().log, () => madeAt);
      const steps: Array<[string, string, () => Promise<unknown>]> = [
        ['device', 'env-1', () => feed.devices.revoke('env-1')],
        ['device', 'env-2', () => feed.devices.rotate('env-2')],
        ['user', 'ops', () => feed.users.remove('ops')],
      ];
      for (const [kind, subject, change] of steps) {
        const count = seen.length;
        madeAt = Date.now();
        await change();
        await waitFor(`${kind} change of ${subject}`, () => seen.length > count, 2000);
        assert.deepEqual([seen.at(-1)!.kind, seen.at(-1)!.subject], [kind, subject]);
        assert.ok(seen.at(-1)!.lagMs < 1000, `${kind} ${subject} arrived after ${seen.at(-1)!.lagMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(seen.length, 3, 'each change is delivered once, and the revoke from before the start not at all');
    },
  },
  {
    name: 'a change the watcher fails to enforce is logged with store_unavailable, and later changes still arrive',
    async run(t, feed) {
      assert.ok((await feed.devices.add('env-1', 'env-sensor')).ok);
      assert.ok((await feed.devices.add('env-2', 'env-sensor')).ok);
      const { log, lines } = capture();
      const seen = record(t, feed, log, () => 0, (change) => change.subject === 'env-1');
      await feed.devices.revoke('env-1');
      await feed.devices.revoke('env-2');
      await waitFor('both changes', () => seen.length === 2, 2000);
      await waitFor('the failure logged', () => lines.some((line) => line.code === 'store_unavailable' && line.subject === 'env-1'), 2000);
    },
  },
];

for (const backend of backends) {
  for (const { name, run } of cases) {
    test(`${name} (${backend.name})`, { skip: backend.skip }, async (t) => run(t, await backend.open(t)));
  }
}

test('the Redis change feed survives a Redis restart: it logs the outage and continues after the last change it saw', { skip: skipWithoutRedis }, async (t) => {
  const server = await redisStore(t);
  const feed = redisFeed(server);
  assert.ok((await feed.devices.add('env-1', 'env-sensor')).ok);
  assert.ok((await feed.devices.add('env-2', 'env-sensor')).ok);
  const { log, lines } = capture();
  const seen = record(t, feed, log, () => 0);
  await feed.devices.revoke('env-1');
  await waitFor('the change before the restart', () => seen.length === 1, 2000);

  await server.server.stop(true);
  await waitFor('the outage logged', () => lines.some((line) => line.code === 'store_unavailable'), 5000);
  await server.server.restart();
  // Made on a fresh connection, possibly before the watcher is back: it must still arrive.
  await redisFeed(server).devices.rotate('env-2');
  await waitFor('the change after the restart', () => seen.length === 2, 10_000);
  // The first connection reconnected too, and its scripts run again (Redis lost its script cache).
  assert.ok((await feed.devices.revoke('env-2')).ok);
  await waitFor('a change over the reconnected connection', () => seen.length === 3, 2000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(
    seen.map((change) => change.subject),
    ['env-1', 'env-2', 'env-2'],
    'nothing lost, nothing delivered twice',
  );
  assert.equal(lines.filter((line) => line.code === 'store_unavailable').length, 1, 'the outage is logged once');
  assert.ok(lines.some((line) => line.msg === 'registry change feed reading from Redis again'));
});
