import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../errors.js';

export type Store = Database.Database;

// SQLite in WAL mode: the CLI and a running gateway open the same file at once
// (readers never block the writer), and a committed row survives kill -9.
// Each entry upgrades the schema by one version; never edit a shipped entry.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE devices (
     id          TEXT PRIMARY KEY,
     model       TEXT NOT NULL,
     token_hash  TEXT NOT NULL UNIQUE,
     created_at  INTEGER NOT NULL,
     rotated_at  INTEGER,
     revoked_at  INTEGER
   );
   CREATE TABLE users (
     name          TEXT PRIMARY KEY,
     password_hash TEXT NOT NULL,
     allow_pub     TEXT NOT NULL,
     allow_sub     TEXT NOT NULL,
     created_at    INTEGER NOT NULL
   );
   CREATE TABLE registry_changes (
     seq      INTEGER PRIMARY KEY AUTOINCREMENT,
     kind     TEXT NOT NULL,
     subject  TEXT NOT NULL,
     at       INTEGER NOT NULL
   );`,
  // Commands: rowid order is FIFO order per device; finished rows stay a while for duplicate detection.
  `CREATE TABLE commands (
     device        TEXT NOT NULL,
     id            TEXT NOT NULL,
     name          TEXT NOT NULL,
     params        TEXT NOT NULL,
     status        TEXT NOT NULL,
     accepted_at   INTEGER NOT NULL,
     expires_at    INTEGER NOT NULL,
     delivered_at  INTEGER,
     finished_at   INTEGER,
     PRIMARY KEY (device, id)
   );
   CREATE INDEX commands_by_status ON commands (status, expires_at);
   CREATE INDEX commands_by_device ON commands (device, status);`,
];

export const STORE_FILE = 'gateway.db';

/** Opens (creating and migrating) the store; a store that cannot be opened is a ConfigError naming the file. */
export function openStore(dataDir: string): Store {
  const file = join(dataDir, STORE_FILE);
  let db: Store | undefined;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode loses nothing on a process crash, only on power loss.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    const { code, message } = err as NodeJS.ErrnoException;
    throw new ConfigError(`Cannot open the store ${file}: ${code ?? message}${code ? ` (${message})` : ''}`);
  }
}

function migrate(db: Store): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}
