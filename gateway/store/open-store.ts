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
  // The embedded broker's state (gateway/broker/persistence/): persistent MQTT sessions,
  // their QoS 1/2 queues in seq order, retained messages, wills, inbound QoS 2 packets.
  // A packet row keeps its header fields as JSON in `meta` and its payload untouched
  // (a column without type affinity returns a Buffer as a Buffer and a string as a string).
  `CREATE TABLE broker_sessions (
     client_id  TEXT PRIMARY KEY,
     last_seen  INTEGER NOT NULL
   );
   CREATE TABLE broker_subscriptions (
     client_id  TEXT NOT NULL,
     topic      TEXT NOT NULL,
     options    TEXT NOT NULL,
     PRIMARY KEY (client_id, topic)
   );
   CREATE TABLE broker_outgoing (
     seq        INTEGER PRIMARY KEY,
     client_id  TEXT NOT NULL,
     meta       TEXT NOT NULL,
     payload
   );
   CREATE TABLE broker_incoming (
     client_id  TEXT NOT NULL,
     message_id INTEGER NOT NULL,
     meta       TEXT NOT NULL,
     payload,
     PRIMARY KEY (client_id, message_id)
   );
   CREATE TABLE broker_retained (
     topic      TEXT PRIMARY KEY,
     meta       TEXT NOT NULL,
     payload
   );
   CREATE TABLE broker_wills (
     client_id  TEXT PRIMARY KEY,
     meta       TEXT NOT NULL,
     payload
   );`,
  // Device twins (gateway/twin/): desired state with its version, and the merged reported state.
  `CREATE TABLE twins (
     device      TEXT PRIMARY KEY,
     version     INTEGER NOT NULL,
     desired     TEXT NOT NULL,
     reported    TEXT NOT NULL,
     updated_at  INTEGER NOT NULL
   );`,
];

export const STORE_FILE = 'gateway.db';

/** Opens (creating and migrating) the store; a store that cannot be opened is a ConfigError naming the file. */
export function openStore(dataDir: string): Store {
  const file = join(dataDir, STORE_FILE);
  let db: Store | undefined;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    db = new Database(file);
    // First: switching to WAL needs the lock, and another process may hold it a moment.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode loses nothing on a process crash, only on power loss.
    db.pragma('synchronous = NORMAL');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    const unavailable = storeUnavailable(file, err);
    if (unavailable instanceof ConfigError) throw unavailable;
    const { code, message } = err as NodeJS.ErrnoException;
    throw new ConfigError(`Cannot open the store ${file}: ${code ?? message}${code ? ` (${message})` : ''}`);
  }
}

// SQLite's result codes for a store the operator must fix (full disk, a lock held by
// another process, a read-only or unreadable file): these exit 2 with a message, not a stack.
const OPERATOR_CODES = /^SQLITE_(BUSY|LOCKED|FULL|READONLY|CANTOPEN|IOERR|CORRUPT|NOTADB|PERM|AUTH)/;

/** A store error at startup as a ConfigError naming the file and SQLite's reason; other errors pass through. */
export function storeUnavailable(file: string, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !OPERATOR_CODES.test(code)) return err;
  return new ConfigError(`store_unavailable: cannot write the gateway store ${file} (${code}: ${(err as Error).message}); free disk space, stop the other process holding it, or fix its permissions`);
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
