import type { Store } from '../store/open-store.js';
import { changesSince, lastChangeSeq, type RegistryChange } from './changes.js';

/**
 * Polls the registry's change log so revoke, rotate and user removal made by
 * the CLI (another process) act on live connections within `intervalMs`.
 */
export function watchRegistryChanges(store: Store, intervalMs: number, onChange: (change: RegistryChange) => void): () => void {
  let seen = lastChangeSeq(store);
  const timer = setInterval(() => {
    for (const change of changesSince(store, seen)) {
      seen = change.seq;
      onChange(change);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
