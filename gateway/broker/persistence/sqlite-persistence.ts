import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Logger } from '../../log.js';
import { storeUnavailable, type Store } from '../../store/open-store.js';
import { prepareBrokerStatements, type BrokerStatements } from './broker-statements.js';
import { GroupCommit } from './group-commit.js';
import { SessionQueue } from './session-queue.js';
import { packetOf, packetRow, type BrokerPacket } from './stored-packet.js';
import { loadBrokerState } from './load-state.js';
import { OutgoingRows } from './outgoing-rows.js';
import { QueueFullLog } from './queue-full-log.js';
import { IncomingPackets } from './incoming-packets.js';
import { RetainedMessages } from './retained-messages.js';
import { StoredWills } from './wills.js';
import { SubscriptionIndex, type Subscription, type SubscriptionOptions } from './subscription-index.js';

// CommonJS, no type declarations: the same packet class as aedes-persistence's memory
// store, so the packet shape is aedes' own.
const require = createRequire(import.meta.url);
const Packet = require('aedes-packet') as new (original: BrokerPacket, broker?: unknown) => BrokerPacket;

const LONGEST_SWEEP_MS = 60_000;
// No MQTT client id can contain NUL [MQTT-1.5.3-2]: this row never collides with a session.
const WRITE_CHECK = '\u0000write-check';

interface ClientRef {
  id: string;
}
interface BrokerRef {
  id: string;
  clients?: Record<string, unknown>;
}

export interface PersistenceOptions {
  /** mqtt.maxSessionQueue: past it a session's oldest queued packet is dropped. */
  maxSessionQueue: number;
  /** mqtt.sessionExpiryMs: a persistent session offline this long is dropped. */
  sessionExpiryMs: number;
  log: Logger;
}

/** On /healthz as `mqttSessions`. */
export interface PersistenceStats {
  /** Persistent sessions the store holds, online or not. */
  persistent: number;
  /** Messages queued across them (offline, or sent and not yet acknowledged). */
  queued: number;
  /** Packets dropped by mqtt.maxSessionQueue since start. */
  dropped: number;
}

/**
 * aedes' persistence on the gateway's SQLite store. Reads are served from memory;
 * every change is written through to SQLite in the transaction of its event-loop turn
 * (group-commit.ts), and a change aedes waits for (a queued packet, a retained message,
 * a subscription, a will) resolves only once it is committed. At start the whole state
 * is loaded back (load-state.ts). Passes aedes-persistence's abstract suite
 * (test/broker-persistence-abstract.test.ts).
 */
export class SqlitePersistence {
  readonly #store: Store;
  readonly #options: PersistenceOptions;
  readonly #group: GroupCommit;
  readonly #queueFull: QueueFullLog;
  readonly #sql: BrokerStatements;
  readonly #rows: OutgoingRows;
  #broker: BrokerRef | undefined;
  readonly #subscriptions = new SubscriptionIndex();
  readonly #queues = new Map<string, SessionQueue>();
  readonly #retained: RetainedMessages;
  readonly #wills: StoredWills;
  readonly #incoming: IncomingPackets;
  readonly #lastSeen = new Map<string, number>();
  #seq = 0;
  #dropped = 0;
  #sweep: NodeJS.Timeout | undefined;

  constructor(store: Store, options: PersistenceOptions) {
    this.#store = store;
    this.#options = options;
    this.#group = new GroupCommit(store, options.log);
    this.#queueFull = new QueueFullLog(options.log, options.maxSessionQueue);
    this.#sql = prepareBrokerStatements(store);
    this.#retained = new RetainedMessages(this.#group, this.#sql);
    this.#wills = new StoredWills(this.#group, this.#sql);
    this.#incoming = new IncomingPackets(this.#group, this.#sql);
    this.#rows = new OutgoingRows(this.#group, this.#sql, (row) => this.#queues.get(row.clientId)?.remove(row.seq));
  }

  get broker(): BrokerRef | undefined {
    return this.#broker;
  }

  stats(): PersistenceStats {
    let queued = 0;
    for (const queue of this.#queues.values()) queued += queue.size;
    return { persistent: this.#lastSeen.size, queued, dropped: this.#dropped };
  }

  // aedes checks that this is an async function.
  async setup(broker: BrokerRef): Promise<void> {
    this.#broker = broker;
    const state = loadBrokerState(this.#store);
    for (const [clientId, subs] of state.subscriptions) this.#subscriptions.add(clientId, subs);
    for (const [clientId, rows] of state.outgoing) {
      const queue = this.#queueOf(clientId);
      for (const { seq, row } of rows) {
        // A queued PUBREL (QoS 2, after PUBREC) is kept as stored: aedes-packet would drop its messageId.
        const packet = packetOf(row);
        queue.push(seq, packet.cmd === 'publish' ? new Packet(packet) : packet);
      }
    }
    this.#retained.load(state.retained);
    this.#wills.load(state.wills);
    this.#incoming.load(state.incoming);
    for (const [clientId, at] of state.sessions) this.#lastSeen.set(clientId, at);
    this.#seq = state.lastSeq;
    try {
      // Sessions that expired while the gateway was down go before anyone can connect.
      // Then a write: a full disk or a lock held elsewhere fails the start here, not
      // the first device's ack.
      this.#sweepSessions();
      this.#group.flush();
      this.#store.transaction(() => {
        this.#sql.touchSession.run(WRITE_CHECK, 0);
        this.#sql.deleteSession.run(WRITE_CHECK);
      })();
    } catch (err) {
      throw storeUnavailable(this.#store.name, err);
    }
    const every = Math.min(Math.max(Math.floor(this.#options.sessionExpiryMs / 4), 50), LONGEST_SWEEP_MS);
    this.#sweep = setInterval(() => this.#sweepSessions(), every);
    this.#sweep.unref();
  }

  // --- retained --------------------------------------------------------------

  async storeRetained(original: BrokerPacket): Promise<void> {
    this.#retained.store(original);
  }

  createRetainedStream(pattern: string): Readable {
    return this.#retained.matching([pattern]);
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    return this.#retained.matching(patterns);
  }

  // --- subscriptions -----------------------------------------------------------

  addSubscriptions(client: ClientRef, subs: Array<SubscriptionOptions & { topic: string }>): Promise<void> {
    const added = this.#subscriptions.add(client.id, subs);
    const now = Date.now();
    this.#lastSeen.set(client.id, now);
    return this.#group.add(() => {
      for (const [topic, options] of added) this.#sql.putSubscription.run(client.id, topic, JSON.stringify(options));
      this.#sql.touchSession.run(client.id, now);
    });
  }

  removeSubscriptions(client: ClientRef, topics: string[]): Promise<void> {
    this.#subscriptions.remove(client.id, topics);
    return this.#group.add(() => {
      for (const topic of topics) this.#sql.deleteSubscription.run(client.id, topic);
    });
  }

  async subscriptionsByClient(client: ClientRef): Promise<Array<SubscriptionOptions & { topic: string }>> {
    return this.#subscriptions.ofClient(client.id);
  }

  async subscriptionsByTopic(topic: string): Promise<Subscription[]> {
    return this.#subscriptions.matching(topic);
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return this.#subscriptions.counts();
  }

  getClientList(topic: string): Readable {
    return Readable.from(this.#subscriptions.clientsOf(topic));
  }

  /** A clean-session CONNECT: the session and everything queued for it end [MQTT-3.1.2-6]. */
  cleanSubscriptions(client: ClientRef): Promise<void> {
    if (!this.#knows(client.id)) return Promise.resolve();
    const seqs = this.#dropSession(client.id);
    return this.#group.add(() => this.#deleteSessionRows(client.id, seqs));
  }

  // --- outgoing queues ---------------------------------------------------------

  outgoingEnqueue(sub: { clientId: string }, packet: BrokerPacket): Promise<void> {
    return this.outgoingEnqueueCombi([sub], packet);
  }

  /**
   * The hot path: aedes calls it for every QoS > 0 publish, with the persistent sessions
   * it matches (often none), and delivers the publish once it resolves.
   *
   * It resolves once this turn's transaction is committed, whenever the turn has written
   * anything (this publish's queue rows, its retained copy, or another publish's): so the
   * ack waits for the disk, and publishes keep the order aedes numbered them in
   * (brokerCounter). That order matters: each aedes client drops a packet whose
   * brokerCounter is lower than one it already forwarded (lib/client.js dedupe), so a
   * retained publish held back by its commit while a later one went out would be lost
   * for every subscriber.
   */
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: BrokerPacket): Promise<void> {
    if (subs.length > 0) this.#enqueue(subs, packet);
    return this.#group.whenCommitted(packet.brokerCounter ?? 0);
  }

  #enqueue(subs: Array<{ clientId: string }>, packet: BrokerPacket): void {
    const { meta, payload } = packetRow(packet);
    for (const sub of subs) {
      const queue = this.#queueOf(sub.clientId);
      if (queue.size >= this.#options.maxSessionQueue) this.#dropOldest(sub.clientId, queue);
      const seq = ++this.#seq;
      queue.push(seq, new Packet(packet));
      this.#rows.insert({ seq, clientId: sub.clientId, meta, payload });
    }
  }

  async outgoingUpdate(client: ClientRef, packet: BrokerPacket): Promise<void> {
    const updated = this.#queues.get(client.id)?.update(packet);
    if (!updated) throw new Error('no such packet');
    // A new messageId is not written: after a restart aedes sends every queued packet
    // again with a fresh one. A replacement (PUBREL for a QoS 2 packet) is state.
    if (updated.replaced) {
      const row = packetRow(packet, true);
      await this.#group.add(() => this.#sql.updateOutgoing.run(row.meta, row.payload, updated.seq));
    }
  }

  async outgoingClearMessageId(client: ClientRef, packet: { messageId?: number }): Promise<BrokerPacket | undefined> {
    if (packet.messageId === undefined) return undefined;
    const cleared = this.#queues.get(client.id)?.clear(packet.messageId);
    if (!cleared) return undefined;
    this.#rows.delete(cleared.seq);
    return cleared.packet;
  }

  outgoingStream(client: ClientRef): Readable {
    return Readable.from(this.#queues.get(client.id)?.packets() ?? []);
  }

  #queueOf(clientId: string): SessionQueue {
    let queue = this.#queues.get(clientId);
    if (!queue) this.#queues.set(clientId, (queue = new SessionQueue()));
    return queue;
  }

  #dropOldest(clientId: string, queue: SessionQueue): void {
    const seq = queue.oldest()!;
    queue.remove(seq);
    this.#rows.delete(seq);
    this.#dropped++;
    this.#queueFull.dropped(clientId, this.#dropped);
  }

  // --- inbound QoS 2 -----------------------------------------------------------

  incomingStorePacket(client: ClientRef, original: BrokerPacket): Promise<void> {
    return this.#incoming.store(client.id, original);
  }

  async incomingGetPacket(client: ClientRef, packet: { messageId?: number }): Promise<BrokerPacket> {
    const stored = this.#incoming.get(client.id, packet.messageId!);
    if (!stored) throw new Error('no such packet');
    return stored;
  }

  incomingDelPacket(client: ClientRef, packet: { messageId?: number }): Promise<void> {
    return this.#incoming.delete(client.id, packet.messageId!);
  }

  cleanIncoming(client: ClientRef): Promise<void> {
    return this.#incoming.clean(client.id);
  }

  // --- wills -------------------------------------------------------------------

  putWill(client: ClientRef, packet: BrokerPacket): Promise<void> {
    return this.#wills.put(client.id, this.#broker!.id, packet);
  }

  async getWill(client: ClientRef): Promise<BrokerPacket | undefined> {
    return this.#wills.get(client.id);
  }

  delWill(client: ClientRef): Promise<BrokerPacket | undefined> {
    return this.#wills.delete(client.id);
  }

  streamWill(brokers: Record<string, unknown> = {}): Readable {
    return this.#wills.orphaned(brokers);
  }

  // --- session expiry ----------------------------------------------------------

  /** Keeps connected sessions' last_seen fresh and drops sessions offline past mqtt.sessionExpiryMs. */
  #sweepSessions(): void {
    const now = Date.now();
    const clients = this.#broker?.clients ?? {};
    const known = new Set([...this.#subscriptions.clients(), ...this.#queues.keys(), ...this.#lastSeen.keys()]);
    const touched: string[] = [];
    const expired: Array<[string, number[]]> = [];
    for (const clientId of known) {
      const lastSeen = this.#lastSeen.get(clientId);
      if (clients[clientId] || lastSeen === undefined) {
        this.#lastSeen.set(clientId, now);
        touched.push(clientId);
      } else if (now - lastSeen > this.#options.sessionExpiryMs) {
        const queued = this.#queues.get(clientId)?.size ?? 0;
        this.#options.log.info('persistent session expired; dropping it', { code: 'session_expired', clientId, idleMs: now - lastSeen, queued });
        expired.push([clientId, this.#dropSession(clientId)]);
      }
    }
    if (touched.length === 0 && expired.length === 0) return;
    void this.#group.add(() => {
      for (const clientId of touched) this.#sql.touchSession.run(clientId, now);
      for (const [clientId, seqs] of expired) this.#deleteSessionRows(clientId, seqs);
    });
  }

  #knows(clientId: string): boolean {
    return this.#subscriptions.has(clientId) || this.#queues.has(clientId) || this.#incoming.has(clientId) || this.#lastSeen.has(clientId);
  }

  /** Forgets a session in memory; returns the seqs of its queued rows, for #deleteSessionRows. */
  #dropSession(clientId: string): number[] {
    const seqs = this.#queues.get(clientId)?.seqs() ?? [];
    this.#subscriptions.forget(clientId);
    this.#queues.delete(clientId);
    this.#incoming.forget(clientId);
    this.#lastSeen.delete(clientId);
    this.#queueFull.forget(clientId);
    return seqs;
  }

  // Queued rows go by seq (the primary key): broker_outgoing has no index on client_id,
  // which would cost every enqueue an index write.
  #deleteSessionRows(clientId: string, seqs: number[]): void {
    this.#sql.deleteSubscriptionsOf.run(clientId);
    this.#rows.deleteNow(seqs);
    this.#sql.deleteIncomingOf.run(clientId);
    this.#sql.deleteSession.run(clientId);
  }

  /** Commits what is queued and stops the sweep; the store itself belongs to the gateway. */
  async destroy(): Promise<void> {
    clearInterval(this.#sweep);
    if (this.#store.open) this.#group.flush();
  }
}
