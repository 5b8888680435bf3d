// The broker's SQLite persistence behaves as aedes expects of any persistence:
// aedes-persistence's own abstract suite, run against it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqlitePersistence } from '../gateway/broker/persistence/sqlite-persistence.js';
import { createLogger } from '../gateway/log.js';
import { openStore, type Store } from '../gateway/store/open-store.js';

const require = createRequire(import.meta.url);
const abstractPersistence = require('aedes-persistence/abstract.js') as (options: object) => void;

const root = mkdtempSync(join(tmpdir(), 'wmg-persistence-'));
const stores: Store[] = [];
after(() => {
  for (const store of stores) store.close();
  rmSync(root, { recursive: true, force: true });
});

abstractPersistence({
  test,
  testAsync: true,
  // A fresh store per test, as the suite expects an empty persistence each time.
  persistence: async () => {
    const store = openStore(mkdtempSync(join(root, 'store-')));
    stores.push(store);
    return new SqlitePersistence(store, { maxSessionQueue: 100_000, sessionExpiryMs: 60_000, log: createLogger('error') });
  },
});
