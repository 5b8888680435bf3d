// The bus codec (gateway/cluster/bus-codec.ts) keeps mqemitter-redis' wire format: a node
// with it and a stock mqemitter-redis node on one real redis-server read each other's
// messages, payload bytes intact, each delivered once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import MQEmitterRedis from 'mqemitter-redis';
import { useFastBusCodec } from '../gateway/cluster/bus-codec.js';
import { withDeadline } from './helpers/deadline.js';
import { skipWithoutRedis, startRedis } from './helpers/redis-server.js';

interface Packet {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

type Emitter = {
  on(topic: string, cb: (packet: Packet, done: () => void) => void, ready: () => void): void;
  emit(packet: Packet, done: (err?: Error) => void): void;
  close(cb: () => void): void;
};

function emitter(url: string): Emitter {
  return MQEmitterRedis({ connectionString: url }) as unknown as Emitter;
}

function received(bus: Emitter, topic: string, count: number): { packets: Packet[]; all: Promise<void>; ready: Promise<void> } {
  const packets: Packet[] = [];
  let resolve!: () => void;
  const all = new Promise<void>((r) => (resolve = r));
  const ready = new Promise<void>((r) =>
    bus.on(
      topic,
      (packet, done) => {
        packets.push(packet);
        if (packets.length === count) resolve();
        done();
      },
      r,
    ),
  );
  return { packets, all, ready };
}

test('a node with the msgpackr bus codec and a stock mqemitter-redis node read each other', { skip: skipWithoutRedis, timeout: 30_000 }, async (t) => {
  const redis = await startRedis(t);
  const stock = emitter(redis.url);
  const fast = emitter(redis.url);
  useFastBusCodec(fast as unknown as Parameters<typeof useFastBusCodec>[0], () => {});
  // Closed here, not in t.after: that would run after startRedis' own hook has stopped Redis.
  try {
    await exchange(stock, fast);
  } finally {
    await withDeadline(Promise.all([stock, fast].map((bus) => new Promise<void>((resolve) => bus.close(resolve)))), 5000, 'emitters closed');
  }
});

async function exchange(stock: Emitter, fast: Emitter): Promise<void> {
  const atStock = received(stock, 'devices/+/telemetry', 2);
  const atFast = received(fast, 'devices/+/telemetry', 2);
  await withDeadline(Promise.all([atStock.ready, atFast.ready]), 5000, 'subscriptions');

  const binary = Buffer.from([0, 1, 2, 0xfe, 0xff]);
  const json = Buffer.from(JSON.stringify({ device: 'd-1', data: { temperature: 21.5, label: 'Küche' } }));
  await new Promise<void>((resolve, reject) => fast.emit({ topic: 'devices/d-1/telemetry', payload: json, qos: 1, retain: false }, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => stock.emit({ topic: 'devices/d-2/telemetry', payload: binary, qos: 1, retain: false }, (err) => (err ? reject(err) : resolve())));
  await withDeadline(Promise.all([atStock.all, atFast.all]), 5000, 'both messages at both nodes');

  for (const { packets } of [atStock, atFast]) {
    const byTopic = new Map(packets.map((packet) => [packet.topic, packet]));
    assert.equal(packets.length, 2, 'each message once');
    assert.ok(Buffer.isBuffer(byTopic.get('devices/d-1/telemetry')!.payload), 'payload is a Buffer, as aedes needs');
    assert.deepEqual(Buffer.from(byTopic.get('devices/d-1/telemetry')!.payload), json);
    assert.deepEqual(Buffer.from(byTopic.get('devices/d-2/telemetry')!.payload), binary);
    assert.equal(byTopic.get('devices/d-2/telemetry')!.qos, 1);
  }
}
