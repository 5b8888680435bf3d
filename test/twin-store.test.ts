// One table of twin-store cases, run against the embedded SQLite store and the Redis store
// that gateway nodes share: version compare-and-set, key-by-key reported merge, and two
// writers (nodes, processes) through two connections.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisTwinStore } from '../gateway/cluster/redis-twin-store.js';
import { SqliteTwinStore, type TwinStore } from '../gateway/twin/twin-store.js';
import { bothStores } from './helpers/stores.js';

type Stores = [TwinStore, TwinStore];

const backends = bothStores<TwinStore>((store) => new SqliteTwinStore(store), (redis) => new RedisTwinStore(redis));

const cases: Array<{ name: string; run(stores: Stores): Promise<void> }> = [
  {
    name: 'a device without a twin reads as version 0 with empty sides',
    async run([store]) {
      assert.deepEqual(await store.get('d-1'), { device: 'd-1', version: 0, desired: {}, reported: {}, updatedAt: 0 });
    },
  },
  {
    name: 'desired moves one version at a time, only from the version the writer read',
    async run([a, b]) {
      const first = await a.writeDesired('d-1', { reportIntervalSec: 10 }, 0, 5);
      assert.deepEqual(first, { device: 'd-1', version: 1, desired: { reportIntervalSec: 10 }, reported: {}, updatedAt: 5 });
      // The other writer also read version 0: it loses, and nothing of it is stored.
      assert.equal(await b.writeDesired('d-1', { reportIntervalSec: 99 }, 0, 6), undefined);
      assert.equal((await b.writeDesired('d-1', { reportIntervalSec: 20 }, 1, 7))?.version, 2);
      assert.deepEqual((await a.get('d-1')).desired, { reportIntervalSec: 20 });
    },
  },
  {
    name: 'reported state merges key by key and keeps the desired side and its version',
    async run([a, b]) {
      await a.writeDesired('d-1', { relay: 'on' }, 0, 1);
      await a.mergeReported('d-1', { firmware: '1.0', relay: 'off' }, 2);
      const merged = await b.mergeReported('d-1', { relay: 'on' }, 3);
      assert.deepEqual(merged, { device: 'd-1', version: 1, desired: { relay: 'on' }, reported: { firmware: '1.0', relay: 'on' }, updatedAt: 3 });
    },
  },
  {
    name: 'a report before any desired state makes a version-0 twin that a first change still moves to 1',
    async run([a, b]) {
      await a.mergeReported('d-1', { firmware: '1.0' }, 1);
      assert.equal((await b.get('d-1')).version, 0);
      assert.equal((await b.writeDesired('d-1', { reportIntervalSec: 5 }, 0, 2))?.version, 1);
      assert.deepEqual((await a.get('d-1')).reported, { firmware: '1.0' });
    },
  },
];

for (const backend of backends) {
  for (const { name, run } of cases) {
    test(`${backend.name}: ${name}`, { skip: backend.skip }, async (t) => run(await backend.open(t)));
  }
}
