import type { Store } from '../store/open-store.js';

export const COMMAND_STATUSES = ['accepted', 'delivered', 'succeeded', 'failed', 'expired', 'timed_out', 'rejected'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];

export interface QueuedCommand {
  device: string;
  id: string;
  name: string;
  params: Record<string, unknown>;
  acceptedAt: number;
  expiresAt: number;
}

export type EnqueueOutcome = 'accepted' | 'duplicate' | 'queue_full';

/**
 * Durable per-device FIFO of commands. The embedded implementation below keeps
 * it in the gateway's SQLite store; the shared one (cluster/redis-command-queue.ts)
 * lets several gateway processes serve one fleet.
 */
export interface CommandQueue {
  /** Stores a new command, unless its id is already known for the device or the device's queue is full. */
  enqueue(command: QueuedCommand, maxQueued: number): Promise<EnqueueOutcome>;
  /** Undelivered, unexpired commands of the device, oldest first. */
  pending(device: string, now: number): Promise<QueuedCommand[]>;
  /** Marks a pending command delivered; false when it no longer was pending (another node delivered it, or it lapsed). */
  markDelivered(device: string, id: string, at: number): Promise<boolean>;
  /** Records the device's answer; false when no delivered command with that id awaits one. */
  finish(device: string, id: string, status: 'succeeded' | 'failed', at: number): Promise<boolean>;
  /** Marks and returns queued commands whose TTL has passed. */
  takeExpired(now: number): Promise<QueuedCommand[]>;
  /** Marks and returns delivered commands still without a result that were delivered before `deliveredBefore`. */
  takeTimedOut(deliveredBefore: number, now: number): Promise<QueuedCommand[]>;
  /** Forgets commands finished before `before`; their ids may then be used again. */
  prune(before: number): Promise<void>;
  /** Commands waiting for delivery, over all devices (lapsed ones too, until the sweep takes them). */
  depth(): Promise<number>;
}

interface CommandRow {
  device: string;
  id: string;
  name: string;
  params: string;
  accepted_at: number;
  expires_at: number;
}

const toCommand = (row: CommandRow): QueuedCommand => ({
  device: row.device,
  id: row.id,
  name: row.name,
  params: JSON.parse(row.params) as Record<string, unknown>,
  acceptedAt: row.accepted_at,
  expiresAt: row.expires_at,
});

/** The embedded queue: every transition is committed before it is reported, so a kill -9 loses none. */
export class SqliteCommandQueue implements CommandQueue {
  readonly #enqueue: (command: QueuedCommand, maxQueued: number) => EnqueueOutcome;
  readonly #statements;

  constructor(private readonly store: Store) {
    this.#statements = {
      exists: store.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM commands WHERE device = ? AND id = ?'),
      queued: store.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM commands WHERE device = ? AND status = 'accepted'"),
      depth: store.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM commands WHERE status = 'accepted'"),
      insert: store.prepare(
        "INSERT INTO commands (device, id, name, params, status, accepted_at, expires_at) VALUES (?, ?, ?, ?, 'accepted', ?, ?)",
      ),
      pending: store.prepare<[string, number], CommandRow>(
        "SELECT * FROM commands WHERE device = ? AND status = 'accepted' AND expires_at > ? ORDER BY rowid",
      ),
      delivered: store.prepare("UPDATE commands SET status = 'delivered', delivered_at = ? WHERE device = ? AND id = ? AND status = 'accepted'"),
      finish: store.prepare("UPDATE commands SET status = ?, finished_at = ? WHERE device = ? AND id = ? AND status = 'delivered'"),
      expired: store.prepare<[number], CommandRow>("SELECT * FROM commands WHERE status = 'accepted' AND expires_at <= ? ORDER BY rowid"),
      timedOut: store.prepare<[number], CommandRow>("SELECT * FROM commands WHERE status = 'delivered' AND delivered_at <= ? ORDER BY rowid"),
      mark: store.prepare('UPDATE commands SET status = ?, finished_at = ? WHERE device = ? AND id = ?'),
      prune: store.prepare('DELETE FROM commands WHERE finished_at IS NOT NULL AND finished_at < ?'),
    };
    const s = this.#statements;
    // One transaction: the duplicate check, the bound and the insert must not interleave with another writer.
    this.#enqueue = store.transaction((command: QueuedCommand, maxQueued: number): EnqueueOutcome => {
      if (s.exists.get(command.device, command.id)) return 'duplicate';
      if (s.queued.get(command.device)!.n >= maxQueued) return 'queue_full';
      s.insert.run(command.device, command.id, command.name, JSON.stringify(command.params), command.acceptedAt, command.expiresAt);
      return 'accepted';
    });
  }

  async enqueue(command: QueuedCommand, maxQueued: number): Promise<EnqueueOutcome> {
    return this.#enqueue(command, maxQueued);
  }

  async pending(device: string, now: number): Promise<QueuedCommand[]> {
    return this.#statements.pending.all(device, now).map(toCommand);
  }

  async markDelivered(device: string, id: string, at: number): Promise<boolean> {
    return this.#statements.delivered.run(at, device, id).changes === 1;
  }

  async finish(device: string, id: string, status: 'succeeded' | 'failed', at: number): Promise<boolean> {
    return this.#statements.finish.run(status, at, device, id).changes === 1;
  }

  async takeExpired(now: number): Promise<QueuedCommand[]> {
    return this.#take(this.#statements.expired.all(now), 'expired', now);
  }

  async takeTimedOut(deliveredBefore: number, now: number): Promise<QueuedCommand[]> {
    return this.#take(this.#statements.timedOut.all(deliveredBefore), 'timed_out', now);
  }

  async prune(before: number): Promise<void> {
    this.#statements.prune.run(before);
  }

  async depth(): Promise<number> {
    return this.#statements.depth.get()!.n;
  }

  #take(rows: CommandRow[], status: CommandStatus, now: number): QueuedCommand[] {
    if (rows.length === 0) return [];
    this.store.transaction(() => {
      for (const row of rows) this.#statements.mark.run(status, now, row.device, row.id);
    })();
    return rows.map(toCommand);
  }
}
