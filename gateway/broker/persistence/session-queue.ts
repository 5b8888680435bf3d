import type { BrokerPacket } from './stored-packet.js';

/**
 * One persistent session's outgoing QoS 1/2 queue, in the order aedes must send it.
 * A Map keeps insertion order and removes any entry in O(1), so dropping the oldest
 * (the bound) and clearing an acked packet (usually the oldest) cost the same at
 * 10 or 100,000 queued; aedes-persistence's array scan from the front did not.
 * `seq` is the packet's row in broker_outgoing.
 */
export class SessionQueue {
  readonly #bySeq = new Map<number, BrokerPacket>();
  // aedes finds a queued packet by the broker that published it and that broker's
  // counter (nested rather than a joined string key: no string built per message)...
  readonly #byOrigin = new Map<string, Map<number, number>>();
  // ...and, once it is on the wire, by the messageId it assigned.
  readonly #byMessageId = new Map<number, number>();

  get size(): number {
    return this.#bySeq.size;
  }

  push(seq: number, packet: BrokerPacket): void {
    this.#bySeq.set(seq, packet);
    this.#setOrigin(packet, seq);
  }

  /**
   * aedes' outgoingUpdate: the packet was given a messageId (set it on the queued copy),
   * or a queued packet with this messageId is replaced (a PUBREL after PUBREC).
   */
  update(packet: BrokerPacket): { seq: number; replaced: boolean } | undefined {
    const seq = this.#originSeq(packet);
    const queued = seq === undefined ? undefined : this.#bySeq.get(seq);
    if (seq !== undefined && queued) {
      queued.messageId = packet.messageId;
      if (packet.messageId !== undefined) this.#byMessageId.set(packet.messageId, seq);
      return { seq, replaced: false };
    }
    const bySeq = packet.messageId === undefined ? undefined : this.#byMessageId.get(packet.messageId);
    if (bySeq === undefined || !this.#bySeq.has(bySeq)) return undefined;
    this.#deleteOrigin(this.#bySeq.get(bySeq)!, bySeq);
    this.#bySeq.set(bySeq, packet); // same key: keeps its place in the queue
    this.#setOrigin(packet, bySeq);
    return { seq: bySeq, replaced: true };
  }

  /** aedes' outgoingClearMessageId: the packet the peer acked, removed from the queue. */
  clear(messageId: number): { seq: number; packet: BrokerPacket } | undefined {
    const seq = this.#byMessageId.get(messageId);
    const packet = seq === undefined ? undefined : this.#bySeq.get(seq);
    if (seq === undefined || !packet || packet.messageId !== messageId) return undefined;
    this.remove(seq);
    return { seq, packet };
  }

  /** The seq of the oldest queued packet (the one the bound drops). */
  oldest(): number | undefined {
    return this.#bySeq.keys().next().value;
  }

  remove(seq: number): void {
    const packet = this.#bySeq.get(seq);
    if (!packet) return;
    this.#bySeq.delete(seq);
    this.#deleteOrigin(packet, seq);
    if (packet.messageId !== undefined && this.#byMessageId.get(packet.messageId) === seq) this.#byMessageId.delete(packet.messageId);
  }

  packets(): BrokerPacket[] {
    return [...this.#bySeq.values()];
  }

  seqs(): number[] {
    return [...this.#bySeq.keys()];
  }

  // A PUBREL has no origin, only the messageId of the publish it replaced.
  #originSeq(packet: BrokerPacket): number | undefined {
    return packet.brokerId === undefined ? undefined : this.#byOrigin.get(packet.brokerId)?.get(packet.brokerCounter!);
  }

  #setOrigin(packet: BrokerPacket, seq: number): void {
    if (packet.brokerId === undefined) return;
    let counters = this.#byOrigin.get(packet.brokerId);
    if (!counters) this.#byOrigin.set(packet.brokerId, (counters = new Map()));
    counters.set(packet.brokerCounter!, seq);
  }

  #deleteOrigin(packet: BrokerPacket, seq: number): void {
    const counters = packet.brokerId === undefined ? undefined : this.#byOrigin.get(packet.brokerId);
    if (counters?.get(packet.brokerCounter!) !== seq) return;
    // The empty map stays: there is one per broker run, and a queue that drains and
    // refills (a fast consumer) would otherwise build a new one per message.
    counters.delete(packet.brokerCounter!);
  }
}
