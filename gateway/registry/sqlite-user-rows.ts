import type { Statement } from 'better-sqlite3';
import type { Store } from '../store/open-store.js';
import { recordChange } from './changes.js';
import type { UserRow, UserRows } from './user-rows.js';

interface SqlRow {
  name: string;
  password_hash: string;
  allow_pub: string;
  allow_sub: string;
  created_at: number;
}

/** Backend users in the embedded store. */
export class SqliteUserRows implements UserRows {
  // Prepared once: every backend CONNECT, guesses included, reads one row.
  readonly #byName: Statement<[string], SqlRow>;

  constructor(private readonly store: Store) {
    this.#byName = store.prepare('SELECT * FROM users WHERE name = ?');
  }

  async insert(row: UserRow): Promise<boolean> {
    const result = this.store
      .prepare('INSERT OR IGNORE INTO users (name, password_hash, allow_pub, allow_sub, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(row.name, row.passwordHash, JSON.stringify(row.allowPub), JSON.stringify(row.allowSub), row.createdAt);
    return result.changes === 1;
  }

  async byName(name: string): Promise<UserRow | undefined> {
    const row = this.#byName.get(name);
    return row && toRow(row);
  }

  async all(): Promise<UserRow[]> {
    return this.store.prepare<[], SqlRow>('SELECT * FROM users ORDER BY name').all().map(toRow);
  }

  async delete(name: string): Promise<boolean> {
    return this.store.transaction(() => {
      const result = this.store.prepare('DELETE FROM users WHERE name = ?').run(name);
      if (result.changes === 1) recordChange(this.store, 'user', name);
      return result.changes === 1;
    })();
  }
}

function toRow(row: SqlRow): UserRow {
  return {
    name: row.name,
    passwordHash: row.password_hash,
    allowPub: JSON.parse(row.allow_pub) as string[],
    allowSub: JSON.parse(row.allow_sub) as string[],
    createdAt: row.created_at,
  };
}
