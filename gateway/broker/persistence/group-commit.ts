import type { Logger } from '../../log.js';
import type { Store } from '../../store/open-store.js';

/**
 * Collects the broker's writes of one event-loop turn and commits them in one
 * SQLite transaction at the end of the turn (setImmediate). Every caller of that
 * turn gets the same promise, which settles once the transaction has committed:
 * a device's ack waits on it (through aedes' publish callback), so an acked
 * reading is on disk for every persistent session, and the cost is one commit
 * per turn rather than one per message. In WAL mode with synchronous=NORMAL a
 * commit is a write into the WAL without fsync: it survives kill -9, and only a
 * power loss can undo it (docs/durability.md).
 */
export class GroupCommit {
  #writes: Array<() => void> = [];
  #lastWrites: Array<() => void> = [];
  #undos: Array<() => void> = [];
  #waiters: Array<{ order: number; resolve(): void; reject(err: Error): void }> = [];
  #committed: Promise<void> | undefined;
  #settle: { resolve(): void; reject(err: Error): void } | undefined;
  #failures = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  /**
   * Queues `write` (synchronous SQL) for this turn's transaction; resolves once it is committed.
   * `undo` puts the memory side back if the transaction fails, so memory never holds what disk
   * refused; `last` runs the write after every other write of the turn (a delete of a row an
   * insert of the same turn creates).
   */
  add(write: () => void, options: { undo?: () => void; last?: boolean } = {}): Promise<void> {
    (options.last ? this.#lastWrites : this.#writes).push(write);
    if (options.undo) this.#undos.push(options.undo);
    if (!this.#committed) {
      this.#committed = new Promise<void>((resolve, reject) => (this.#settle = { resolve, reject }));
      // A batch nobody awaits (a write whose caller ignores the result) must not crash the process.
      this.#committed.catch(() => {});
      setImmediate(() => this.flush());
    }
    return this.#committed;
  }

  /**
   * Resolves once this turn's transaction has committed, or at once if this turn has
   * written nothing. Waiters settle in `order` (the publish's brokerCounter), whatever
   * order they came in: see SqlitePersistence.outgoingEnqueueCombi for why.
   */
  whenCommitted(order: number): Promise<void> {
    if (!this.#committed) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ order, resolve, reject }));
  }

  /** Commits what is queued now (also called on close, so nothing queued is left behind). */
  flush(): void {
    const writes = this.#writes.concat(this.#lastWrites);
    const undos = this.#undos;
    const waiters = this.#waiters.sort((a, b) => a.order - b.order);
    const settle = this.#settle;
    this.#waiters = [];
    this.#writes = [];
    this.#lastWrites = [];
    this.#undos = [];
    this.#committed = undefined;
    this.#settle = undefined;
    if (!settle) return;
    try {
      this.store.transaction(() => {
        for (const write of writes) write();
      })();
    } catch (err) {
      // The whole turn is rolled back: no publish of it is acked, devices resend.
      this.#failures++;
      for (const undo of undos) undo();
      this.log.error('broker store write failed; nothing of this batch is acked', {
        code: 'store_unavailable',
        writes: writes.length,
        failures: this.#failures,
        error: (err as Error).message,
      });
      for (const waiter of waiters) waiter.reject(err as Error);
      return settle.reject(err as Error);
    }
    for (const waiter of waiters) waiter.resolve();
    settle.resolve();
  }
}
