import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import type { Redis, RedisOptions } from 'ioredis';
import MQEmitterRedis from 'mqemitter-redis';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { GatewayState } from '../state.js';
import type { RedisEmitter } from './bus-codec.js';
import { paceByReceipts } from './bus-receipts.js';
import { closeRedis, connectRedis, duplicateRedis } from './connect-redis.js';
import { RedisTwinStore } from './redis-twin-store.js';
import { RedisCommandQueue } from './redis-command-queue.js';
import { startRedisSessionLimits } from './redis-session-limits.js';
import { watchRedisChanges } from './redis-changes.js';
import { RedisDeviceRows } from './redis-device-rows.js';
import { RedisUserRows } from './redis-user-rows.js';

// aedes-persistence-redis ships CommonJS without types. Its default export wraps the
// async implementation in the streams aedes 1.x reads (SUBACK's retained messages pipe).
const redisPersistence = createRequire(import.meta.url)('aedes-persistence-redis') as (options: {
  conn: Redis;
  maxSessionDelivery: number;
}) => { destroy(): Promise<void>; cleanSubscriptions(client: { id: string }): Promise<void> };

/** Past this many deliveries in progress mqemitter queues publishes (see broker/embedded.ts). */
const MQ_CONCURRENCY = 65_536;

/**
 * The cluster's state, all in Redis: registries and their change stream, the command
 * queue, and Aedes' own Redis support (aedes-persistence-redis for sessions, queues,
 * retained messages and wills; mqemitter-redis as the bus between nodes' brokers).
 */
export async function openClusterState(config: Readonly<GatewayConfig>, log: Logger): Promise<GatewayState> {
  const url = config.cluster.redis!;
  const redis = await connectRedis(url, log);
  const nodeId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const connections = [redis];
  const dup = (overrides?: Partial<RedisOptions>) => {
    const copy = duplicateRedis(redis, url, log, overrides);
    connections.push(copy);
    return copy;
  };
  const persistence = redisPersistence({
    conn: dup(),
    // Its default of 1,000 would leave the rest of a reconnecting session's queue for its next reconnect.
    maxSessionDelivery: config.mqtt.maxSessionQueue,
  });
  // The bus corks its publishing socket per turn (bus-codec.ts); ioredis' auto-pipelining would only add its cost.
  const mq = MQEmitterRedis({ pubConn: dup({ enableAutoPipelining: false }), subConn: dup(), concurrency: MQ_CONCURRENCY });
  const stopPacing = await paceByReceipts(mq as unknown as RedisEmitter, log);
  // Unheard, an 'error' on the emitter's state would end the process.
  (mq as unknown as { state: EventEmitter }).state.on('error', (err: Error) => log.debug('redis bus error', { code: 'store_unavailable', error: err.message }));
  const subscriber = dup();
  log.info('cluster node joining', { node: nodeId });
  return {
    devices: new RedisDeviceRows(redis),
    users: new RedisUserRows(redis),
    commands: new RedisCommandQueue(redis),
    twins: new RedisTwinStore(redis),
    // It reads with a blocking XREAD on a connection of its own.
    watchChanges: (onChange) => watchRedisChanges(redis, log, onChange),
    broker: { persistence, mq },
    available: () => redis.status === 'ready',
    limitSessions: (aedes, counters) =>
      startRedisSessionLimits(redis, aedes, (clientId) => persistence.cleanSubscriptions({ id: clientId }), { ...config.mqtt, counters, log }),
    // A node's devices are corrected by the survivors (cluster/node-liveness.ts), not at start.
    correctStalePresence: async () => undefined,
    cluster: { nodeId, redis, subscriber },
    ping: async () => void (await redis.ping()),
    // Counted by cluster/redis-session-limits.ts as it trims.
    sessionQueueDropped: (counters) => counters.get('session_queue_full'),
    health: () => ({ node: nodeId, redis: redis.status }),
    async close() {
      stopPacing();
      // The persistence and the bus disconnected theirs when the broker closed.
      await Promise.all(connections.map((connection) => closeRedis(connection)));
    },
  };
}
