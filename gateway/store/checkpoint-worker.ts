import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

// Runs in a worker thread (see checkpoint.ts): copies the WAL back into the
// database file with its own connection, so the copy and its fsync never run on
// the gateway's event loop. PASSIVE never waits for, or blocks, the writer.
const { file, everyMs } = workerData as { file: string; everyMs: number };
const db = new Database(file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), everyMs);

parentPort!.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
