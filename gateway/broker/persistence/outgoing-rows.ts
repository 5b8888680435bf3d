import type { BrokerStatements } from './broker-statements.js';
import type { GroupCommit } from './group-commit.js';
import type { PacketRow } from './stored-packet.js';

/** A reading queued for a persistent session, waiting for the turn's transaction. */
export type QueuedRow = { seq: number; clientId: string } & PacketRow;

/**
 * The session queues' rows, written once per event-loop turn: the turn's inserts go in
 * by one write of its transaction (added by the first publish of the turn), its deletes
 * by another, last, as runs of consecutive seqs: one closure per turn, not one per publish
 * (saturation-durable in docs/performance.md).
 */
export class OutgoingRows {
  #inserts: QueuedRow[] | undefined;
  #deletes: number[] | undefined;

  constructor(
    private readonly group: GroupCommit,
    private readonly sql: BrokerStatements,
    /** The turn's transaction failed: take the row back out of the session's memory queue. */
    private readonly unqueue: (row: QueuedRow) => void,
  ) {}

  /** Not awaited: the publish's ack waits on the turn's commit (GroupCommit.whenCommitted). */
  insert(row: QueuedRow): void {
    if (!this.#inserts) {
      const inserts: QueuedRow[] = (this.#inserts = []);
      void this.group.add(
        () => {
          this.#inserts = undefined;
          for (const r of inserts) this.sql.insertOutgoing.run(r.seq, r.clientId, r.meta, r.payload);
        },
        {
          // Not queued after all: the devices get no ack and resend, which would queue them twice.
          undo: () => {
            this.#inserts = undefined;
            for (const r of inserts) this.unqueue(r);
          },
        },
      );
    }
    this.#inserts.push(row);
  }

  /**
   * PUBACKs (and drops) come mostly in seq order, so the turn's seqs collapse into a few
   * runs: one DELETE per run instead of one per packet. Not awaited: a delete that is lost
   * sends the packet once more (QoS 1 allows it). Last in the transaction: the bound can
   * drop a packet queued earlier in the same turn.
   */
  delete(seq: number): void {
    if (!this.#deletes) {
      const deletes: number[] = (this.#deletes = []);
      const forget = (): void => {
        this.#deletes = undefined;
      };
      void this.group.add(
        () => {
          forget();
          this.deleteNow(deletes.sort((a, b) => a - b));
        },
        { last: true, undo: forget },
      );
    }
    this.#deletes.push(seq);
  }

  /** Inside a write of the turn's transaction: deletes sorted `seqs` at once. */
  deleteNow(seqs: readonly number[]): void {
    for (const [first, last] of runsOf(seqs)) this.sql.deleteOutgoing.run(first, last);
  }
}

/** Sorted seqs as [first, last] runs of consecutive numbers. */
function runsOf(seqs: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const seq of seqs) {
    const run = runs[runs.length - 1];
    if (run && seq === run[1] + 1) run[1] = seq;
    else runs.push([seq, seq]);
  }
  return runs;
}
