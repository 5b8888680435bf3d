import type { Logger } from '../log.js';
import type { Store } from '../store/open-store.js';
import { changesSince, lastChangeSeq, pruneChanges, type RegistryChange } from './changes.js';

// Every reader polls every 250 ms, so a row older than this has been seen by all of them.
const KEEP_CHANGES_MS = 10 * 60_000;
const PRUNE_EVERY_MS = 60_000;

/**
 * Polls the registry's change log so revoke, rotate and user removal made by
 * the CLI (another process) act on live connections within `intervalMs`.
 */
export function watchRegistryChanges(store: Store, intervalMs: number, log: Logger, onChange: (change: RegistryChange) => Promise<void>): () => void {
  let seen = lastChangeSeq(store);
  let prunedAt = 0;
  const timer = setInterval(() => {
    // A busy or failing store must not end the process: log, and try again next tick.
    try {
      for (const change of changesSince(store, seen)) {
        seen = change.seq;
        onChange(change).catch((err: Error) =>
          log.error('registry change not enforced', { code: 'store_unavailable', kind: change.kind, subject: change.subject, error: err.message }),
        );
      }
      const now = Date.now();
      if (now - prunedAt >= PRUNE_EVERY_MS) {
        pruneChanges(store, now - KEEP_CHANGES_MS);
        prunedAt = now;
      }
    } catch (err) {
      log.error('registry watch failed', { code: 'internal_error', error: (err as Error).stack });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
