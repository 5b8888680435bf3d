// One table of registry cases, run against both stores: the embedded SQLite one and the
// Redis one that gateway nodes share. What the CLI and the gateway rely on must not
// depend on which is configured.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { RedisDeviceRows } from '../gateway/cluster/redis-device-rows.js';
import { RedisUserRows } from '../gateway/cluster/redis-user-rows.js';
import type { DeviceRows } from '../gateway/registry/device-rows.js';
import { DeviceRegistry } from '../gateway/registry/devices.js';
import { SqliteDeviceRows } from '../gateway/registry/sqlite-device-rows.js';
import { SqliteUserRows } from '../gateway/registry/sqlite-user-rows.js';
import { hashToken } from '../gateway/registry/tokens.js';
import type { UserRows } from '../gateway/registry/user-rows.js';
import { UserRegistry } from '../gateway/registry/users.js';
import { tempDataDir } from './helpers/gateway.js';
import { skipWithoutRedis } from './helpers/redis-server.js';
import { redisStore, sqliteStore } from './helpers/stores.js';

interface Rows {
  devices: DeviceRows;
  users: UserRows;
  /** The same rows through another handle (a second SQLite connection, a second Redis connection). */
  peer: { devices: DeviceRows; users: UserRows };
}

const backends: Array<{ name: string; skip: string | false; open(t: TestContext): Promise<Rows> }> = [
  {
    name: 'sqlite',
    skip: false,
    async open(t) {
      const dir = tempDataDir();
      const [store, other] = [sqliteStore(t, dir), sqliteStore(t, dir)];
      const peer = { devices: new SqliteDeviceRows(other), users: new SqliteUserRows(other) };
      return { devices: new SqliteDeviceRows(store), users: new SqliteUserRows(store), peer };
    },
  },
  {
    name: 'redis',
    skip: skipWithoutRedis,
    async open(t) {
      const server = await redisStore(t);
      const [redis, other] = [server.connect(), server.connect()];
      const peer = { devices: new RedisDeviceRows(other), users: new RedisUserRows(other) };
      return { devices: new RedisDeviceRows(redis), users: new RedisUserRows(redis), peer };
    },
  },
];

const MODELS = ['env-sensor', 'tracker'];

const cases: Array<{ name: string; run(rows: Rows): Promise<void> }> = [
  {
    name: 'a device is added once, found by id and token, and listed in id order',
    async run({ devices }) {
      const registry = new DeviceRegistry(devices, MODELS);
      const added = await registry.add('m-2', 'tracker');
      assert.ok(added.ok);
      assert.ok((await registry.add('a-1', 'env-sensor')).ok);
      assert.ok((await registry.add('Z-3', 'env-sensor')).ok);
      const again = await registry.add('m-2', 'env-sensor');
      assert.equal(!again.ok && again.error.code, 'device_exists');
      assert.deepEqual(await registry.authenticate(added.value.token), { device: 'm-2', model: 'tracker' });
      assert.equal(await registry.authenticate('not-a-token'), undefined);
      const record = await registry.get('m-2');
      assert.deepEqual([record?.model, record?.rotatedAt, record?.revokedAt], ['tracker', null, null]);
      assert.equal(typeof record?.createdAt, 'number');
      assert.equal(await registry.get('nobody'), undefined);
      assert.deepEqual((await registry.list()).map((device) => device.device), ['Z-3', 'a-1', 'm-2']);
    },
  },
  {
    name: 'two concurrent inserts of one id over two connections: exactly one wins, and its row stays whole',
    async run({ devices, users, peer }) {
      const row = (tokenHash: string, model: string) => ({ id: 'race-1', model, tokenHash, createdAt: 1, rotatedAt: null, revokedAt: null });
      const won = await Promise.all([devices.insert(row('h-1', 'env-sensor')), peer.devices.insert(row('h-2', 'tracker'))]);
      assert.equal(won.filter(Boolean).length, 1);
      const stored = await devices.byId('race-1');
      assert.equal(stored?.tokenHash, won[0] ? 'h-1' : 'h-2');
      assert.equal((await devices.byTokenHash(won[0] ? 'h-2' : 'h-1'))?.id, undefined);
      assert.equal((await peer.devices.byTokenHash(won[0] ? 'h-1' : 'h-2'))?.id, 'race-1');
      const user = (passwordHash: string) => ({ name: 'ops', passwordHash, allowPub: [], allowSub: [], createdAt: 1 });
      const added = await Promise.all([users.insert(user('p-1')), peer.users.insert(user('p-2'))]);
      assert.equal(added.filter(Boolean).length, 1);
      assert.equal((await peer.users.byName('ops'))?.passwordHash, added[0] ? 'p-1' : 'p-2');
    },
  },
  {
    name: 'rotate issues a new token, the old one stops working, and a revoked device is enabled again',
    async run({ devices }) {
      const registry = new DeviceRegistry(devices, MODELS);
      const added = await registry.add('env-1', 'env-sensor');
      assert.ok(added.ok);
      assert.ok((await registry.revoke('env-1')).ok);
      const rotated = await registry.rotate('env-1');
      assert.ok(rotated.ok);
      assert.notEqual(rotated.value.token, added.value.token);
      assert.equal(await registry.authenticate(added.value.token), undefined);
      assert.equal(await devices.byTokenHash(hashToken(added.value.token)), undefined);
      assert.deepEqual(await registry.authenticate(rotated.value.token), { device: 'env-1', model: 'env-sensor' });
      const record = await registry.get('env-1');
      assert.equal(record?.revokedAt, null);
      assert.equal(typeof record?.rotatedAt, 'number');
      assert.equal(await registry.stillValid('env-1', hashToken(added.value.token)), false);
      assert.equal(await registry.stillValid('env-1', hashToken(rotated.value.token)), true);
      const unknown = await registry.rotate('nobody');
      assert.equal(!unknown.ok && unknown.error.code, 'unknown_device');
    },
  },
  {
    name: 'revoke disables the token and is recorded on the device',
    async run({ devices }) {
      const registry = new DeviceRegistry(devices, MODELS);
      const added = await registry.add('env-1', 'env-sensor');
      assert.ok(added.ok);
      const revoked = await registry.revoke('env-1');
      assert.ok(revoked.ok);
      assert.equal(typeof revoked.value.revokedAt, 'number');
      assert.equal(await registry.authenticate(added.value.token), undefined);
      assert.equal(await registry.stillValid('env-1', hashToken(added.value.token)), false);
      const unknown = await registry.revoke('nobody');
      assert.equal(!unknown.ok && unknown.error.code, 'unknown_device');
    },
  },
  {
    name: 'users are added once, listed in name order, verified, and removed',
    async run({ users: rows }) {
      const users = new UserRegistry(rows);
      assert.ok((await users.add('ops', 'pw', ['devices/+/commands'], ['devices/#'])).ok);
      assert.ok((await users.add('Alice', 'pw2', [], ['devices/+/telemetry'])).ok);
      const again = await users.add('ops', 'other', [], []);
      assert.equal(!again.ok && again.error.code, 'user_exists');
      assert.deepEqual(
        (await users.list()).map(({ name, allowPub, allowSub }) => ({ name, allowPub, allowSub })),
        [
          { name: 'Alice', allowPub: [], allowSub: ['devices/+/telemetry'] },
          { name: 'ops', allowPub: ['devices/+/commands'], allowSub: ['devices/#'] },
        ],
      );
      assert.equal((await users.verify('ops', 'pw'))?.name, 'ops');
      assert.equal(await users.verify('ops', 'wrong'), undefined);
      assert.ok((await users.remove('ops')).ok);
      assert.equal(await users.exists('ops'), false);
      assert.equal(await users.verify('ops', 'pw'), undefined);
      const gone = await users.remove('ops');
      assert.equal(!gone.ok && gone.error.code, 'unknown_user');
      assert.deepEqual((await users.list()).map((user) => user.name), ['Alice']);
    },
  },
];

for (const backend of backends) {
  for (const { name, run } of cases) {
    test(`${name} (${backend.name})`, { skip: backend.skip }, async (t) => run(await backend.open(t)));
  }
}
