// One table of command-queue cases, run against the embedded SQLite queue and the Redis
// queue that gateway nodes share: de-duplication, the per-device bound, FIFO order,
// expiry, result time-out, pruning and depth behave the same on both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RedisCommandQueue } from '../gateway/cluster/redis-command-queue.js';
import { SqliteCommandQueue, type CommandQueue, type QueuedCommand } from '../gateway/command/queue.js';
import { skipWithoutRedis } from './helpers/redis-server.js';
import { bothStores, redisStore } from './helpers/stores.js';

/** A queue, and the same queue through a second connection (another node, another process). */
type Queues = [CommandQueue, CommandQueue];

const backends = bothStores<CommandQueue>((store) => new SqliteCommandQueue(store), (redis) => new RedisCommandQueue(redis));

const T0 = 1_000_000;
const TTL = 1000;
const command = (device: string, id: string, acceptedAt = T0, params: Record<string, unknown> = { n: id }): QueuedCommand => ({
  device,
  id,
  name: 'ping',
  params,
  acceptedAt,
  expiresAt: acceptedAt + TTL,
});
const ids = (commands: QueuedCommand[]) => commands.map((c) => `${c.device}/${c.id}`);

const cases: Array<{ name: string; run(queues: Queues): Promise<void> }> = [
  {
    name: 'commands come back per device in the order they were accepted, whole',
    async run([queue]) {
      for (const [device, id] of [['d-1', 'c'], ['d-2', 'x'], ['d-1', 'a'], ['d-1', 'b']]) {
        assert.equal(await queue.enqueue(command(device!, id!), 10), 'accepted');
      }
      assert.deepEqual(await queue.pending('d-1', T0), [command('d-1', 'c'), command('d-1', 'a'), command('d-1', 'b')]);
      assert.deepEqual(ids(await queue.pending('d-2', T0)), ['d-2/x']);
      assert.deepEqual(await queue.pending('d-3', T0), []);
      const nested = command('d-2', 'deep', T0, { a: { b: [1, 'two', null] }, s: 'ünï' });
      assert.equal(await queue.enqueue(nested, 10), 'accepted');
      assert.deepEqual((await queue.pending('d-2', T0)).at(-1), nested);
    },
  },
  {
    name: 'an id is a duplicate for its device while known (finished too), and free again once pruned',
    async run([queue, peer]) {
      assert.equal(await queue.enqueue(command('d-1', 'c-1'), 10), 'accepted');
      assert.equal(await peer.enqueue(command('d-1', 'c-1'), 10), 'duplicate');
      assert.equal(await queue.enqueue(command('d-2', 'c-1'), 10), 'accepted', 'ids are per device');
      assert.ok(await queue.markDelivered('d-1', 'c-1', T0 + 1));
      assert.ok(await queue.finish('d-1', 'c-1', 'succeeded', T0 + 2));
      assert.equal(await queue.enqueue(command('d-1', 'c-1'), 10), 'duplicate');
      await queue.prune(T0 + 2); // finished at T0 + 2: not before it
      assert.equal(await queue.enqueue(command('d-1', 'c-1'), 10), 'duplicate');
      await queue.prune(T0 + 3);
      assert.equal(await queue.enqueue(command('d-1', 'c-1', T0 + 3), 10), 'accepted');
      assert.deepEqual(ids(await queue.pending('d-2', T0)), ['d-2/c-1'], 'pruning leaves unfinished commands alone');
    },
  },
  {
    name: 'concurrent enqueues of one id over two connections: exactly one is accepted',
    async run([queue, peer]) {
      const outcomes = await Promise.all([queue.enqueue(command('d-1', 'c-1'), 10), peer.enqueue(command('d-1', 'c-1'), 10)]);
      assert.deepEqual(outcomes.sort(), ['accepted', 'duplicate']);
      assert.equal((await queue.pending('d-1', T0)).length, 1);
    },
  },
  {
    name: 'the bound counts undelivered commands of one device, lapsed ones included until swept',
    async run([queue]) {
      assert.equal(await queue.enqueue(command('d-1', 'a'), 2), 'accepted');
      assert.equal(await queue.enqueue(command('d-1', 'b'), 2), 'accepted');
      assert.equal(await queue.enqueue(command('d-1', 'c'), 2), 'queue_full');
      assert.equal(await queue.enqueue(command('d-1', 'c'), 2), 'queue_full', 'a refused command is not remembered');
      assert.equal(await queue.enqueue(command('d-2', 'a'), 2), 'accepted', 'the bound is per device');
      assert.ok(await queue.markDelivered('d-1', 'a', T0));
      assert.equal(await queue.enqueue(command('d-1', 'c'), 2), 'accepted', 'a delivered command leaves the bound');
      assert.equal(await queue.enqueue(command('d-1', 'd', T0 + TTL), 2), 'queue_full', 'lapsed but not yet swept still counts');
      await queue.takeExpired(T0 + TTL);
      assert.equal(await queue.enqueue(command('d-1', 'd', T0 + TTL), 2), 'accepted');
    },
  },
  {
    name: 'a command is delivered once and answered once; an answer to an undelivered one is refused',
    async run([queue, peer]) {
      await queue.enqueue(command('d-1', 'a'), 10);
      await queue.enqueue(command('d-1', 'b'), 10);
      assert.equal(await queue.finish('d-1', 'a', 'succeeded', T0), false, 'not delivered yet');
      assert.equal(await queue.markDelivered('d-1', 'a', T0), true);
      assert.equal(await peer.markDelivered('d-1', 'a', T0), false, 'another node delivered it');
      assert.deepEqual(ids(await queue.pending('d-1', T0)), ['d-1/b']);
      assert.equal(await peer.finish('d-1', 'a', 'failed', T0 + 1), true);
      assert.equal(await queue.finish('d-1', 'a', 'succeeded', T0 + 1), false, 'already answered');
      assert.equal(await queue.markDelivered('d-1', 'nope', T0), false);
      assert.equal(await queue.finish('d-1', 'nope', 'succeeded', T0), false);
    },
  },
  {
    name: 'lapsed commands are never pending, are taken as expired once in acceptance order, and then cannot be delivered',
    async run([queue, peer]) {
      await queue.enqueue(command('d-2', 'late', T0 + 10), 10);
      await queue.enqueue(command('d-1', 'early', T0 + 20), 10);
      await queue.enqueue(command('d-1', 'first', T0), 10);
      await queue.enqueue(command('d-1', 'sent', T0), 10);
      await queue.markDelivered('d-1', 'sent', T0);
      const lapsed = T0 + 20 + TTL;
      assert.deepEqual(ids(await queue.pending('d-1', lapsed - 1)), ['d-1/early']);
      assert.deepEqual(await queue.pending('d-1', lapsed), []);
      assert.deepEqual(ids(await queue.takeExpired(lapsed - 1)), ['d-2/late', 'd-1/first'], 'expiresAt <= now, acceptance order');
      assert.deepEqual(ids(await peer.takeExpired(lapsed)), ['d-1/early'], 'delivered commands do not expire');
      assert.deepEqual(await queue.takeExpired(lapsed + 1), []);
      assert.equal(await queue.markDelivered('d-1', 'early', lapsed), false);
      assert.equal(await queue.enqueue(command('d-1', 'early'), 10), 'duplicate');
    },
  },
  {
    name: 'delivered commands without an answer time out once; answered ones do not',
    async run([queue, peer]) {
      for (const id of ['a', 'b', 'c']) await queue.enqueue(command('d-1', id), 10);
      await queue.markDelivered('d-1', 'a', T0 + 5);
      await queue.markDelivered('d-1', 'b', T0 + 5);
      await queue.markDelivered('d-1', 'c', T0 + 9);
      await queue.finish('d-1', 'b', 'succeeded', T0 + 6);
      assert.deepEqual(ids(await queue.takeTimedOut(T0 + 4, T0 + 100)), []);
      assert.deepEqual(ids(await queue.takeTimedOut(T0 + 5, T0 + 100)), ['d-1/a'], 'delivered at or before the cutoff');
      assert.deepEqual(ids(await peer.takeTimedOut(T0 + 9, T0 + 100)), ['d-1/c']);
      assert.deepEqual(await queue.takeTimedOut(T0 + 50, T0 + 100), []);
      assert.equal(await queue.finish('d-1', 'a', 'succeeded', T0 + 101), false, 'a late answer is refused');
      await queue.prune(T0 + 101);
      assert.equal(await queue.enqueue(command('d-1', 'a', T0 + 101), 10), 'accepted', 'timed out commands are pruned like finished ones');
    },
  },
  {
    name: 'depth counts commands waiting for delivery over all devices',
    async run([queue, peer]) {
      assert.equal(await queue.depth(), 0);
      await queue.enqueue(command('d-1', 'a'), 10);
      await queue.enqueue(command('d-1', 'b'), 10);
      await queue.enqueue(command('d-2', 'a', T0 + 5000), 10);
      assert.equal(await peer.depth(), 3);
      await queue.markDelivered('d-1', 'a', T0);
      assert.equal(await queue.depth(), 2);
      await queue.takeExpired(T0 + TTL);
      assert.equal(await queue.depth(), 1);
    },
  },
];

for (const backend of backends) {
  for (const { name, run } of cases) {
    test(`${name} (${backend.name})`, { skip: backend.skip }, async (t) => run(await backend.open(t)));
  }
}

test('two Redis queues on two connections sweeping the same lapsed commands report each exactly once', { skip: skipWithoutRedis }, async (t) => {
  const server = await redisStore(t);
  const queues = [new RedisCommandQueue(server.connect()), new RedisCommandQueue(server.connect())];
  const devices = 40;
  const perDevice = 30; // 1200 commands: several sweep batches each, interleaved between the two
  const all: string[] = [];
  const enqueues: Array<Promise<unknown>> = [];
  for (let d = 0; d < devices; d++) {
    for (let i = 0; i < perDevice; i++) {
      all.push(`d-${d}/c-${i}`);
      enqueues.push(queues[i % 2]!.enqueue(command(`d-${d}`, `c-${i}`), perDevice));
    }
  }
  await Promise.all(enqueues);
  // Half of them delivered, so they time out instead of expiring.
  await Promise.all(all.filter((_, n) => n % 2 === 1).map((key) => queues[0]!.markDelivered(key.split('/')[0]!, key.split('/')[1]!, T0)));

  const sweeps = await Promise.all([0, 1, 0, 1].map((q) => queues[q]!.takeExpired(T0 + TTL)));
  const timeouts = await Promise.all([1, 0, 1, 0].map((q) => queues[q]!.takeTimedOut(T0, T0 + TTL)));
  const reported = [...sweeps, ...timeouts].flatMap(ids);
  assert.equal(new Set(reported).size, reported.length, 'no command reported twice');
  assert.deepEqual(reported.sort(), [...all].sort());
  assert.equal(await queues[1]!.depth(), 0);
});
