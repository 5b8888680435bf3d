import { SqlitePersistence } from '../broker/persistence/sqlite-persistence.js';
import { SqliteCommandQueue } from '../command/queue.js';
import type { GatewayConfig } from '../config.js';
import { correctPresence } from '../device/correct-presence.js';
import type { Logger } from '../log.js';
import { SqliteDeviceRows } from '../registry/sqlite-device-rows.js';
import { SqliteUserRows } from '../registry/sqlite-user-rows.js';
import { watchRegistryChanges } from '../registry/watch-changes.js';
import type { GatewayState } from '../state.js';
import { SqliteTwinStore } from '../twin/twin-store.js';
import { startCheckpointer } from './checkpoint.js';
import { openStore } from './open-store.js';

// The CLI is another process writing the same file; its changes are polled this often.
const REGISTRY_POLL_MS = 250;

/** The embedded default: one SQLite file in the data dir holds everything; no external service. */
export function openEmbeddedState(config: Readonly<GatewayConfig>, log: Logger): GatewayState {
  const store = openStore(config.dataDir);
  const checkpointer = startCheckpointer(store, log);
  const persistence = new SqlitePersistence(store, { ...config.mqtt, log });
  return {
    devices: new SqliteDeviceRows(store),
    users: new SqliteUserRows(store),
    commands: new SqliteCommandQueue(store),
    twins: new SqliteTwinStore(store),
    watchChanges: (onChange) => watchRegistryChanges(store, REGISTRY_POLL_MS, log, onChange),
    broker: { persistence },
    available: () => true,
    // SqlitePersistence bounds and expires its sessions itself.
    limitSessions: () => () => undefined,
    correctStalePresence: (aedes, topics) => correctPresence(persistence, aedes, topics, log),
    ping: async () => void store.prepare('SELECT 1').get(),
    sessionQueueDropped: () => persistence.stats().dropped,
    health: () => ({ mqttSessions: persistence.stats() }),
    async close() {
      await checkpointer.stop();
      store.close();
    },
  };
}
