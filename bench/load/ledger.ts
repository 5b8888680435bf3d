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
  readonly latency = new Samples();
  /** Per device: seq -> time it was sent (or scheduled), until delivered or refused. */
  readonly #pending: Map<number, number>[];
  /** Per device: seqs acked but not delivered yet. */
  readonly #ackedPending: Set<number>[];

  constructor(devices: number) {
    this.#pending = Array.from({ length: devices }, () => new Map());
    this.#ackedPending = Array.from({ length: devices }, () => new Set());
  }

  recordSent(device: number, seq: number, at: number): void {
    this.sent++;
    this.#pending[device]!.set(seq, at);
  }

  recordAck(device: number, seq: number): void {
    this.acked++;
    if (this.#pending[device]!.has(seq)) this.#ackedPending[device]!.add(seq);
  }

  recordRefused(device: number, seq: number, code: string): void {
    this.refused[code] = (this.refused[code] ?? 0) + 1;
    this.#pending[device]!.delete(seq);
  }

  recordDelivered(device: number, seq: number, at: number): void {
    const sentAt = this.#pending[device]?.get(seq);
    if (sentAt === undefined) return; // a duplicate, or a message this run did not send
    this.delivered++;
    this.latency.add(at - sentAt);
    this.#pending[device]!.delete(seq);
    this.#ackedPending[device]!.delete(seq);
  }

  /** Acked but not delivered (yet; final once the run has drained). */
  get lost(): number {
    return this.#ackedPending.reduce((sum, set) => sum + set.size, 0);
  }

  get undelivered(): number {
    return this.#pending.reduce((sum, map) => sum + map.size, 0);
  }
}
