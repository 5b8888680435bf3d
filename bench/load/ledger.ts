import { Samples } from './percentiles.js';

/**
 * Follows every message from send to ack to delivery, so "lost" means exactly
 * "acked by the system, never seen by the subscriber" and duplicates count once.
 */
export class Ledger {
  sent = 0;
  acked = 0;
  delivered = 0;
  readonly refused: Record<string, number> = {};
  /** Device send -> subscriber receive. */
  readonly latency = new Samples();
  /** Scheduled send -> subscriber receive (open loop only): adds the load generator's own send lag. */
  readonly scheduledLatency = new Samples();
  /** Send (or due time) -> ack: how long a device waits for the system to take a message. */
  readonly ackLatency = new Samples();
  /** Messages sent before this time count as warm-up: their latencies go to `warmup*`, not above. */
  measureFrom = -Infinity;
  readonly warmupLatency = new Samples();
  readonly warmupAckLatency = new Samples();
  /** Per device: seq -> time it was sent, until delivered or refused. */
  readonly #pending: Map<number, number>[];
  /** Per device: seq -> time it was due (open loop), until delivered or refused. */
  readonly #due: Map<number, number>[];
  /** Per device: seqs acked but not delivered yet. */
  readonly #ackedPending: Set<number>[];
  /** Per device: seq -> time it was sent, until acked or refused. */
  readonly #unacked: Map<number, number>[];

  constructor(devices: number) {
    this.#pending = Array.from({ length: devices }, () => new Map());
    this.#due = Array.from({ length: devices }, () => new Map());
    this.#ackedPending = Array.from({ length: devices }, () => new Set());
    this.#unacked = Array.from({ length: devices }, () => new Map());
  }

  /** `dueAt`: when an open-loop schedule wanted it sent, for `scheduledLatency`. */
  recordSent(device: number, seq: number, at: number, dueAt?: number): void {
    this.sent++;
    this.#pending[device]!.set(seq, at);
    this.#unacked[device]!.set(seq, at);
    if (dueAt !== undefined) this.#due[device]!.set(seq, dueAt);
  }

  recordAck(device: number, seq: number): void {
    const sentAt = this.#unacked[device]!.get(seq);
    if (sentAt === undefined) return; // a duplicate, or a message this ledger did not send
    this.acked++;
    this.#unacked[device]!.delete(seq);
    (sentAt >= this.measureFrom ? this.ackLatency : this.warmupAckLatency).add(performance.now() - sentAt);
    if (this.#pending[device]!.has(seq)) this.#ackedPending[device]!.add(seq);
  }

  recordRefused(device: number, seq: number, code: string): void {
    if (!this.#unacked[device]!.has(seq)) return; // not this ledger's, or already answered
    this.refused[code] = (this.refused[code] ?? 0) + 1;
    this.#pending[device]!.delete(seq);
    this.#due[device]!.delete(seq);
    this.#unacked[device]!.delete(seq);
  }

  recordDelivered(device: number, seq: number, at: number): void {
    const sentAt = this.#pending[device]?.get(seq);
    if (sentAt === undefined) return; // a duplicate, or a message this run did not send
    this.delivered++;
    const dueAt = this.#due[device]!.get(seq);
    const measured = sentAt >= this.measureFrom;
    (measured ? this.latency : this.warmupLatency).add(at - sentAt);
    if (dueAt !== undefined) {
      if (measured) this.scheduledLatency.add(at - dueAt);
      this.#due[device]!.delete(seq);
    }
    this.#pending[device]!.delete(seq);
    this.#ackedPending[device]!.delete(seq);
  }

  /** Acked but not delivered (yet; final once the run has drained). */
  get lost(): number {
    return this.#ackedPending.reduce((sum, set) => sum + set.size, 0);
  }

  /** Sent, neither acked nor refused (yet). */
  get unacked(): number {
    return this.#unacked.reduce((sum, map) => sum + map.size, 0);
  }

  get undelivered(): number {
    return this.#pending.reduce((sum, map) => sum + map.size, 0);
  }
}
