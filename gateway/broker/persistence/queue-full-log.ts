import type { Logger } from '../../log.js';

const LOG_EVERY_MS = 10_000;

/**
 * The session_queue_full log line: at most one per session every 10 s, counting what
 * was dropped since the last one. A stalled backend at 25,000 msg/s would otherwise
 * write 25,000 lines a second; a single line at the first drop would hide how many followed.
 */
export class QueueFullLog {
  readonly #sessions = new Map<string, { loggedAt: number; since: number }>();

  constructor(
    private readonly log: Logger,
    private readonly maxSessionQueue: number,
  ) {}

  dropped(clientId: string, droppedTotal: number): void {
    let session = this.#sessions.get(clientId);
    if (!session) this.#sessions.set(clientId, (session = { loggedAt: 0, since: 0 }));
    session.since++;
    const now = Date.now();
    if (now - session.loggedAt < LOG_EVERY_MS) return;
    this.log.warn('persistent session queue full; dropping its oldest messages', {
      code: 'session_queue_full',
      clientId,
      maxSessionQueue: this.maxSessionQueue,
      dropped: session.since,
      droppedTotal,
    });
    session.loggedAt = now;
    session.since = 0;
  }

  forget(clientId: string): void {
    this.#sessions.delete(clientId);
  }
}
