import type { Statement } from 'better-sqlite3';
import type { Store } from '../store/open-store.js';

export type JsonObject = Record<string, unknown>;

/** A device's twin as stored: version counts accepted desired changes (0: none yet). */
export interface StoredTwin {
  device: string;
  version: number;
  desired: JsonObject;
  reported: JsonObject;
  updatedAt: number;
}

/**
 * Where twins are kept: the data dir's SQLite store, or Redis in a cluster. Each call
 * is atomic on its own, so two gateway processes cannot lose an update.
 */
export interface TwinStore {
  /** The device's twin; a device that never had one has version 0 and empty sides. */
  get(device: string): Promise<StoredTwin>;
  /**
   * Replaces the desired state and sets version to `expectedVersion + 1`, only if the
   * stored version still is `expectedVersion`. Undefined when another writer got there first.
   */
  writeDesired(device: string, desired: JsonObject, expectedVersion: number, at: number): Promise<StoredTwin | undefined>;
  /** Merges a state report into the reported side, key by key; the version does not change. */
  mergeReported(device: string, patch: JsonObject, at: number): Promise<StoredTwin>;
}

interface TwinRow {
  device: string;
  version: number;
  desired: string;
  reported: string;
  updated_at: number;
}

/** Durable twins in the registry's SQLite store (the embedded default). */
export class SqliteTwinStore implements TwinStore {
  readonly #get: Statement<[string], TwinRow>;
  readonly #insertDesired: Statement<[string, number, string, number]>;
  readonly #updateDesired: Statement<[number, string, number, string, number]>;
  readonly #mergeReported: (device: string, patch: JsonObject, at: number) => StoredTwin;

  constructor(store: Store) {
    this.#get = store.prepare('SELECT * FROM twins WHERE device = ?');
    this.#insertDesired = store.prepare("INSERT INTO twins (device, version, desired, reported, updated_at) VALUES (?, ?, ?, '{}', ?) ON CONFLICT DO NOTHING");
    this.#updateDesired = store.prepare('UPDATE twins SET version = ?, desired = ?, updated_at = ? WHERE device = ? AND version = ?');
    const upsertReported = store.prepare<[string, string, number]>(
      "INSERT INTO twins (device, version, desired, reported, updated_at) VALUES (?, 0, '{}', ?, ?) ON CONFLICT (device) DO UPDATE SET reported = excluded.reported, updated_at = excluded.updated_at",
    );
    this.#mergeReported = store.transaction((device: string, patch: JsonObject, at: number) => {
      const current = this.#read(device);
      const reported = { ...current.reported, ...patch };
      upsertReported.run(device, JSON.stringify(reported), at);
      return { ...current, reported, updatedAt: at };
    });
  }

  async get(device: string): Promise<StoredTwin> {
    return this.#read(device);
  }

  async writeDesired(device: string, desired: JsonObject, expectedVersion: number, at: number): Promise<StoredTwin | undefined> {
    const version = expectedVersion + 1;
    const text = JSON.stringify(desired);
    const written =
      expectedVersion === 0
        ? this.#insertDesired.run(device, version, text, at).changes + this.#updateDesired.run(version, text, at, device, 0).changes
        : this.#updateDesired.run(version, text, at, device, expectedVersion).changes;
    if (written !== 1) return undefined;
    return this.#read(device);
  }

  async mergeReported(device: string, patch: JsonObject, at: number): Promise<StoredTwin> {
    return this.#mergeReported(device, patch, at);
  }

  #read(device: string): StoredTwin {
    const row = this.#get.get(device);
    if (!row) return { device, version: 0, desired: {}, reported: {}, updatedAt: 0 };
    return { device, version: row.version, desired: JSON.parse(row.desired) as JsonObject, reported: JSON.parse(row.reported) as JsonObject, updatedAt: row.updated_at };
  }
}
