import type { Store } from '../store/open-store.js';

export type ChangeKind = 'device' | 'user';

export interface RegistryChange {
  /** The SQLite row's seq, or the Redis stream entry's id (cluster/redis-changes.ts). */
  seq: number | string;
  kind: ChangeKind;
  subject: string;
}

// The CLI and the gateway are separate processes sharing one SQLite file: the
// CLI appends a row here in the same transaction as the change, and the gateway
// reads rows past the last seq it saw to act on live connections.
export function recordChange(store: Store, kind: ChangeKind, subject: string): void {
  store.prepare('INSERT INTO registry_changes (kind, subject, at) VALUES (?, ?, ?)').run(kind, subject, Date.now());
}

export function lastChangeSeq(store: Store): number {
  const row = store.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM registry_changes').get();
  return row?.seq ?? 0;
}

export function changesSince(store: Store, seq: number): Array<RegistryChange & { seq: number }> {
  return store
    .prepare<[number], RegistryChange & { seq: number }>('SELECT seq, kind, subject FROM registry_changes WHERE seq > ? ORDER BY seq')
    .all(seq);
}

export function pruneChanges(store: Store, before: number): void {
  store.prepare('DELETE FROM registry_changes WHERE at < ?').run(before);
}
