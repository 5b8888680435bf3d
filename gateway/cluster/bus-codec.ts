import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { Packr } from 'msgpackr';

type Done = (err?: Error | null) => void;
/** `receivers`: Redis' PUBLISH reply, the subscriptions over every node that received the message. */
type Published = (err?: Error | null, receivers?: number) => void;

export interface BusPacket {
  topic: string;
}

/** The parts of mqemitter-redis 7 this replaces: its publish and its handler of Redis messages, over the same state. */
export interface RedisEmitter {
  emit(packet: BusPacket, done?: Published): void;
  _emit(packet: BusPacket, done?: Done): void;
  closed?: boolean;
  pubConn: Redis;
  subConn: Redis;
  _ignoredTopicsSet: Set<string>;
  _cache: { get(id: string): unknown; set(id: string, value: true): void };
  _onError: Done;
}

/**
 * mqemitter-redis with msgpackr in place of msgpack-lite, on the same wire format
 * ({ id, msg } as MessagePack, ids de-duplicated by the emitter's own LRU), so a node
 * reads what a stock mqemitter-redis node writes and the other way round. msgpack-lite
 * took ~13 µs to encode and decode each message and allocated a zero-filled 2 KiB
 * buffer for every one; it was the largest cost over Redis (docs/scale-out.md).
 * `useRecords: false` keeps to plain MessagePack, which msgpack-lite decodes. A copy of a
 * message already received (it matched two of this node's Redis subscriptions) goes to
 * `onRepeat` instead of being delivered again.
 *
 * The publishing socket is corked until the end of the event-loop turn, so a turn's
 * PUBLISHes leave in one write. ioredis' auto-pipelining does the same at twice the CPU
 * (a Pipeline, promises and copies per turn): bare publish and receive cost 19.5-21.6 µs
 * per message with it and 14.1-14.7 corked (bench/redis-bus-floor.ts).
 */
export function useFastBusCodec(bus: RedisEmitter, onRepeat: (packet: BusPacket) => void): void {
  const packr = new Packr({ useRecords: false });
  const idPrefix = `${randomBytes(6).toString('base64url')}-`;
  let counter = 0;
  let corked: Writable | undefined;
  const uncork = () => {
    corked?.uncork();
    corked = undefined;
  };
  bus.emit = function emit(msg, done = bus._onError) {
    if (bus.closed) return done(new Error('mqemitter-redis is closed'));
    // While Redis is away commands wait in ioredis' offline queue, not on a socket.
    if (corked === undefined && bus.pubConn.status === 'ready') {
      corked = bus.pubConn.stream;
      corked.cork();
      setImmediate(uncork);
    }
    bus.pubConn.publish(msg.topic, packr.pack({ id: idPrefix + ++counter, msg })).then((receivers) => done(null, receivers), done);
  };
  const handler = (topic: Buffer, payload: Buffer) => {
    if (bus._ignoredTopicsSet.has(topic.toString('utf8'))) return;
    const packet = packr.unpack(payload) as { id: string; msg: BusPacket };
    if (bus._cache.get(packet.id)) return onRepeat(packet.msg);
    bus._cache.set(packet.id, true);
    bus._emit(packet.msg);
  };
  bus.subConn.removeAllListeners('messageBuffer');
  bus.subConn.removeAllListeners('pmessageBuffer');
  bus.subConn.on('messageBuffer', (topic: Buffer, message: Buffer) => handler(topic, message));
  bus.subConn.on('pmessageBuffer', (_pattern: Buffer, topic: Buffer, message: Buffer) => handler(topic, message));
}
