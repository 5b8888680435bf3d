import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.js';

/** A publish whose echo from the bus has not come back by then fails (the device resends). */
const ECHO_TIMEOUT_MS = 10_000;
const SWEEP_MS = 1000;

interface BusPacket {
  topic: string;
  wmgEcho?: string;
}

type Done = (err?: Error | null) => void;

/**
 * The parts of mqemitter-redis used here: `emit` publishes to Redis, `_emit` delivers to
 * this node's subscribers, and `_matcher` holds this node's subscriptions (only topics
 * that match one come back from Redis at all).
 */
interface RedisBus {
  emit(packet: BusPacket, done?: Done): void;
  _emit(packet: BusPacket, done?: Done): void;
  _matcher: { match(topic: string): unknown[] };
}

/**
 * mqemitter-redis calls a publish done once Redis has the message, before any node has
 * delivered it, so a device's ack would not wait for a single subscriber: a node acks as
 * fast as Redis takes messages while its own deliveries fall behind without bound (in the
 * bench, 100,000 acked and 27,534 delivered before the subscriber was cut as a slow consumer).
 * Here the done of each publish waits until the message has come back from Redis to this
 * node and its subscribers here have taken it, as aedes' in-process emitter would: the
 * node's acks are paced by what its own deliveries keep up with. Every node receives
 * every message, so that paces the cluster by the publishing node; a node much slower
 * than the others is not waited for (docs/scale-out.md).
 */
export function ackAfterEcho(bus: RedisBus, log: Logger): () => void {
  const prefix = `${randomBytes(4).toString('hex')}:`;
  const waiting = new Map<string, { done: Done; deadline: number; topic: string }>();
  let seq = 0;
  const settle = (tag: string, err?: Error | null) => {
    const entry = waiting.get(tag);
    if (!entry) return;
    waiting.delete(tag);
    entry.done(err);
  };
  const publish = bus.emit.bind(bus);
  const deliver = bus._emit.bind(bus);
  bus.emit = (packet, done) => {
    // Broker chatter ($SYS heartbeats), fire-and-forget publishes, and topics nobody here
    // subscribes to (Redis will not send them back) keep mqemitter-redis' behaviour.
    if (!done || packet.topic.startsWith('$SYS/') || bus._matcher.match(packet.topic).length === 0) return publish(packet, done);
    const tag = prefix + ++seq;
    packet.wmgEcho = tag;
    waiting.set(tag, { done, deadline: Date.now() + ECHO_TIMEOUT_MS, topic: packet.topic });
    publish(packet, (err) => {
      if (err) settle(tag, err);
    });
  };
  bus._emit = (packet, done) => {
    const tag = packet.wmgEcho;
    if (tag === undefined || !tag.startsWith(prefix)) return deliver(packet, done);
    deliver(packet, (err) => {
      done?.(err);
      settle(tag, err);
    });
  };
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [tag, entry] of waiting) {
      if (entry.deadline > now) continue;
      // Its last subscriber here left meanwhile: nothing to wait for, Redis took it.
      if (bus._matcher.match(entry.topic).length === 0) {
        settle(tag);
        continue;
      }
      log.error('a publish did not come back from the redis bus; failing it', { code: 'store_unavailable', timeoutMs: ECHO_TIMEOUT_MS });
      settle(tag, new Error('no echo from the redis bus'));
    }
  }, SWEEP_MS);
  sweep.unref();
  return () => {
    clearInterval(sweep);
    for (const tag of [...waiting.keys()]) settle(tag, new Error('gateway stopping'));
  };
}
