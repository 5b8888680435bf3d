import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { Store } from './open-store.js';

/** SQLite's default: checkpoint once the WAL holds 1,000 pages. */
const AUTO_CHECKPOINT_PAGES = 1000;
// At 500 commands/s (three commits each) the WAL gains ~6,000 pages a second; a
// checkpoint every 250 ms keeps it near the size SQLite's own would allow.
const CHECKPOINT_EVERY_MS = 250;

export interface Checkpointer {
  stop(): Promise<void>;
}

/**
 * Moves WAL checkpoints off the event loop. SQLite runs them inside whichever
 * commit crosses wal_autocheckpoint, and with an fsync each took 3-5 ms of the
 * gateway's loop every ~250 commits, which was the command round trip's tail
 * (bench/, commands). Commits stay exactly as durable: only the copy of committed
 * pages into the main file moves. If the worker dies, the store checkpoints itself again.
 */
export function startCheckpointer(store: Store, log: Logger): Checkpointer {
  const worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), {
    workerData: { file: store.name, everyMs: CHECKPOINT_EVERY_MS },
  });
  worker.unref();
  store.pragma('wal_autocheckpoint = 0');
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const fallBack = (reason: string): void => {
    if (stopping || !store.open) return;
    stopping = true; // 'error' is followed by 'exit': fall back and log once
    log.error('checkpoint worker stopped; checkpointing on the event loop again', { code: 'internal_error', error: reason });
    store.pragma(`wal_autocheckpoint = ${AUTO_CHECKPOINT_PAGES}`);
  };
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', (code) => fallBack(`exit code ${code}`));
  return {
    async stop() {
      stopping = true;
      // Unref'd so it never holds the process open; waiting for its exit must.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
