import type { Aedes } from 'aedes';
import type { Redis } from 'ioredis';
import type { CommandQueue } from './command/queue.js';
import type { Counters } from './counters.js';
import type { RegistryChange } from './registry/changes.js';
import type { DeviceRows } from './registry/device-rows.js';
import type { Topics } from './topics.js';
import type { UserRows } from './registry/user-rows.js';
import type { TwinStore } from './twin/twin-store.js';

/**
 * Everything the gateway keeps beyond one process' memory: the data dir's SQLite store
 * (store/open-embedded-state.ts), or Redis shared by every node of a cluster
 * (cluster/open-cluster-state.ts). Opened first, closed last.
 */
export interface GatewayState {
  devices: DeviceRows;
  users: UserRows;
  commands: CommandQueue;
  twins: TwinStore;
  /** Acts on registry changes made by the CLI or another node; returns the stop. */
  watchChanges(onChange: (change: RegistryChange) => Promise<void>): () => void;
  /** Aedes' persistence, and in a cluster its message bus between nodes. */
  broker: { persistence: { destroy(): Promise<void> }; mq?: unknown };
  /** False while the shared store cannot be reached: device messages are refused then, never acked. */
  available(): boolean;
  /**
   * Once the broker runs: the bounds on persistent sessions (mqtt.maxSessionQueue,
   * mqtt.sessionExpiryMs) where the persistence does not keep them itself. Returns the stop.
   */
  limitSessions(aedes: Aedes, counters: Counters): () => void;
  /** Before devices are admitted: retained presence left "online" by a crash is corrected (embedded). */
  correctStalePresence(aedes: Aedes, topics: Topics): Promise<void>;
  /** Set in a cluster: this node's id and its Redis connections (commands, pub/sub). */
  cluster?: { nodeId: string; redis: Redis; subscriber: Redis };
  /** Resolves when the store answers (GET /readyz); rejects otherwise. */
  ping(): Promise<void>;
  /** Messages dropped by mqtt.maxSessionQueue since start (wmg_session_queue_dropped_total). */
  sessionQueueDropped(counters: Counters): number;
  /** What /healthz shows of the store. */
  health(): Record<string, unknown>;
  close(): Promise<void>;
}
