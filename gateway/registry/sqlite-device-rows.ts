import type { Statement } from 'better-sqlite3';
import type { Store } from '../store/open-store.js';
import { recordChange } from './changes.js';
import type { DeviceRow, DeviceRows, DeviceUpdate } from './device-rows.js';

interface SqlRow {
  id: string;
  model: string;
  token_hash: string;
  created_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
}

const COLUMNS = { tokenHash: 'token_hash', rotatedAt: 'rotated_at', revokedAt: 'revoked_at' } as const;

/** Device rows in the embedded store; synchronous underneath, so every call settles in the same turn. */
export class SqliteDeviceRows implements DeviceRows {
  readonly #byTokenHash: Statement<[string], SqlRow>;
  readonly #byId: Statement<[string], SqlRow>;

  constructor(private readonly store: Store) {
    this.#byTokenHash = store.prepare('SELECT * FROM devices WHERE token_hash = ?');
    this.#byId = store.prepare('SELECT * FROM devices WHERE id = ?');
  }

  async insert(row: DeviceRow): Promise<boolean> {
    const result = this.store
      .prepare('INSERT OR IGNORE INTO devices (id, model, token_hash, created_at, rotated_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(row.id, row.model, row.tokenHash, row.createdAt, row.rotatedAt, row.revokedAt);
    return result.changes === 1;
  }

  async byId(id: string): Promise<DeviceRow | undefined> {
    return toRow(this.#byId.get(id));
  }

  async byTokenHash(tokenHash: string): Promise<DeviceRow | undefined> {
    return toRow(this.#byTokenHash.get(tokenHash));
  }

  async all(): Promise<DeviceRow[]> {
    return this.store.prepare<[], SqlRow>('SELECT * FROM devices ORDER BY id').all().map((row) => toRow(row)!);
  }

  async update(id: string, update: DeviceUpdate): Promise<boolean> {
    const keys = Object.keys(update) as (keyof DeviceUpdate)[];
    const sets = keys.map((key) => `${COLUMNS[key]} = ?`).join(', ');
    return this.store.transaction(() => {
      const result = this.store.prepare(`UPDATE devices SET ${sets} WHERE id = ?`).run(...keys.map((key) => update[key]), id);
      if (result.changes === 1) recordChange(this.store, 'device', id);
      return result.changes === 1;
    })();
  }
}

function toRow(row: SqlRow | undefined): DeviceRow | undefined {
  return (
    row && {
      id: row.id,
      model: row.model,
      tokenHash: row.token_hash,
      createdAt: row.created_at,
      rotatedAt: row.rotated_at,
      revokedAt: row.revoked_at,
    }
  );
}
