import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';
import { useFastBusCodec, type BusPacket, type RedisEmitter } from './bus-codec.js';

/** A publish not confirmed by every node that received it by then fails (the device resends). */
const RECEIPT_TIMEOUT_MS = 10_000;
const SWEEP_MS = 1000;
/** Each node listens for confirmations of its own publishes on RECEIPTS + its bus id. */
const RECEIPTS = 'wmg:receipts:';

type Done = (err?: Error | null) => void;

interface TaggedPacket extends BusPacket {
  /** `<publishing node's bus id>:<sequence>`: where and what to confirm. */
  wmgTag?: string;
}

interface Waiting {
  done: Done;
  deadline: number;
  /** Redis' answer to the PUBLISH: how many subscriptions received it, over every node. */
  receivers: number | undefined;
  receipts: number;
}

/**
 * mqemitter-redis calls a publish done once Redis has the message, before any node has
 * delivered it, so a device's ack would wait for no subscriber: a node acks as fast as Redis
 * takes messages while the nodes that deliver them fall behind without bound, their
 * backlog in Redis' pub/sub output buffers until Redis cuts them off (in the bench,
 * 100,000 acked and 27,534 delivered; later, with two workers, 50,339 acked readings still
 * undelivered 10 s after the load stopped).
 *
 * Here a publish is done once every copy Redis handed out (its PUBLISH reply counts them)
 * has been delivered by the node that received it: each node confirms the copies it
 * delivered for other nodes in one receipt message per event-loop turn and publisher, and
 * counts its own copies in process. A node's acks are so paced by the slowest node that
 * delivers its readings, as aedes' in-process emitter paces a single node. Installs the
 * bus codec (bus-codec.ts), through whose publish it counts; returns the stop.
 */
export async function paceByReceipts(bus: RedisEmitter, log: Logger): Promise<() => void> {
  const id = randomBytes(4).toString('hex');
  const channel = RECEIPTS + id;
  const waiting = new Map<number, Waiting>();
  let seq = 0;

  const settle = (n: number, err?: Error | null) => {
    const entry = waiting.get(n);
    if (!entry) return;
    waiting.delete(n);
    entry.done(err);
  };
  const confirmed = (n: number, err?: Error | null) => {
    const entry = waiting.get(n);
    if (!entry) return;
    if (err) return settle(n, err);
    entry.receipts++;
    if (entry.receivers !== undefined && entry.receipts >= entry.receivers) settle(n);
  };

  // Confirmations owed to other nodes, batched per publisher until the end of the turn.
  const owed = new Map<string, string[]>();
  let flushing = false;
  const flush = () => {
    flushing = false;
    for (const [origin, seqs] of owed) {
      bus.pubConn.publish(RECEIPTS + origin, seqs.join(',')).catch((err: Error) =>
        // The publisher's timeout then fails the readings and their devices resend them.
        log.warn('delivery receipts not sent', { code: 'store_unavailable', error: err.message }),
      );
    }
    owed.clear();
  };
  const receipt = (tag: string, err?: Error | null) => {
    const colon = tag.lastIndexOf(':');
    const origin = tag.slice(0, colon);
    const n = Number(tag.slice(colon + 1));
    if (origin === id) return confirmed(n, err);
    // '!' tells the publisher this copy failed to deliver here, so it fails the publish.
    const entry = err ? `!${n}` : String(n);
    const list = owed.get(origin);
    if (list) list.push(entry);
    else owed.set(origin, [entry]);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  };

  // A copy this node already delivered (it matched two of its Redis subscriptions) was
  // still counted by Redis, so it is confirmed too.
  useFastBusCodec(bus, (packet: TaggedPacket) => {
    if (packet.wmgTag !== undefined) receipt(packet.wmgTag);
  });
  const publish = bus.emit.bind(bus);
  const deliver = bus._emit.bind(bus);

  bus.emit = (packet: TaggedPacket, done) => {
    // Broker chatter ($SYS heartbeats) and fire-and-forget publishes keep mqemitter-redis' behaviour.
    if (!done || packet.topic.startsWith('$SYS/')) return publish(packet, done);
    const n = ++seq;
    packet.wmgTag = `${id}:${n}`;
    const entry: Waiting = { done, deadline: Date.now() + RECEIPT_TIMEOUT_MS, receivers: undefined, receipts: 0 };
    waiting.set(n, entry);
    publish(packet, (err, receivers) => {
      if (err) return settle(n, err);
      entry.receivers = receivers ?? 0;
      if (entry.receipts >= entry.receivers) settle(n);
    });
  };
  bus._emit = (packet: TaggedPacket, done) => {
    const tag = packet.wmgTag;
    if (tag === undefined) return deliver(packet, done);
    deliver(packet, (err) => {
      done?.(err);
      receipt(tag, err);
    });
  };

  bus._ignoredTopicsSet.add(channel);
  bus.subConn.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    for (const entry of message.split(',')) {
      if (entry.startsWith('!')) confirmed(Number(entry.slice(1)), new Error('a node that received the reading from the redis bus failed to deliver it'));
      else confirmed(Number(entry));
    }
  });
  await bus.subConn.subscribe(channel);

  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [n, entry] of waiting) {
      if (entry.deadline > now) continue;
      log.error('a publish was not confirmed by every node that received it from the redis bus; failing it', {
        code: 'store_unavailable',
        timeoutMs: RECEIPT_TIMEOUT_MS,
        receivers: entry.receivers,
        receipts: entry.receipts,
      });
      settle(n, new Error('not confirmed by every node on the redis bus'));
    }
  }, SWEEP_MS);
  sweep.unref();
  return () => {
    clearInterval(sweep);
    for (const n of [...waiting.keys()]) settle(n, new Error('gateway stopping'));
  };
}
