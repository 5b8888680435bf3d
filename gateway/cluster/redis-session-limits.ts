import type { Aedes } from 'aedes';
import type { Redis } from 'ioredis';
import { QueueFullLog } from '../broker/persistence/queue-full-log.js';
import type { Counters } from '../counters.js';
import type { Logger } from '../log.js';

// aedes-persistence-redis' own keys (asyncPersistence.js): the set of persistent sessions,
// and per session the list of queued packet keys, each packet with a count of sessions holding it.
const CLIENTS = 'clients';
const outgoingKey = (clientId: string) => `outgoing:${encodeURIComponent(clientId)}`;
const SEEN = 'wmg:session-seen';
const LONGEST_SWEEP_MS = 2000;

// Drops the oldest queued packets past the bound, releasing each packet once no session holds it.
const TRIM = `
local list, max = KEYS[1], tonumber(ARGV[1])
local dropped = 0
while redis.call('LLEN', list) > max do
  local packet = redis.call('LPOP', list)
  if redis.call('DECR', packet .. ':offlineCount') <= 0 then redis.call('DEL', packet, packet .. ':offlineCount') end
  dropped = dropped + 1
end
return dropped
`;

type LimitsRedis = Redis & { wmgTrimSession(list: string, max: number): Promise<number> };

export interface SessionLimitOptions {
  maxSessionQueue: number;
  sessionExpiryMs: number;
  counters: Counters;
  log: Logger;
}

/**
 * mqtt.maxSessionQueue and mqtt.sessionExpiryMs for sessions kept by aedes-persistence-redis,
 * which has neither: each node marks the persistent sessions connected to it as seen, and a
 * sweep trims every session's queue to the bound (session_queue_full) and drops sessions no
 * node has seen for sessionExpiryMs (session_expired). The queue can exceed the bound by what
 * arrives between two sweeps (at most LONGEST_SWEEP_MS apart). Returns the stop.
 */
export function startRedisSessionLimits(redis: Redis, aedes: Aedes, cleanSession: (clientId: string) => Promise<void>, options: SessionLimitOptions): () => void {
  redis.defineCommand('wmgTrimSession', { numberOfKeys: 1, lua: TRIM });
  const limits = redis as LimitsRedis;
  const queueFull = new QueueFullLog(options.log, options.maxSessionQueue);
  let droppedTotal = 0;
  let sweeping = false;
  const sweep = async () => {
    const now = Date.now();
    // aedes keeps its connected clients by id; its types leave the map out.
    const clients = (aedes as unknown as { clients: Record<string, { id: string; clean: boolean }> }).clients;
    const local = Object.values(clients).filter((client) => !client.clean).map((client) => client.id);
    if (local.length > 0) await redis.hset(SEEN, ...local.flatMap((id) => [id, now]));
    for (const clientId of await redis.smembers(CLIENTS)) {
      const dropped = await limits.wmgTrimSession(outgoingKey(clientId), options.maxSessionQueue);
      for (let i = 0; i < dropped; i++) queueFull.dropped(clientId, ++droppedTotal);
      if (dropped > 0) options.counters.count('session_queue_full', dropped);
      const seen = Number(await redis.hget(SEEN, clientId));
      if (!seen) await redis.hsetnx(SEEN, clientId, now);
      // HDEL is the claim: when several nodes sweep at once, one drops the session.
      else if (now - seen > options.sessionExpiryMs && (await redis.hdel(SEEN, clientId)) === 1) {
        options.log.info('persistent session expired; dropping it', { code: 'session_expired', clientId, idleMs: now - seen });
        queueFull.forget(clientId);
        // Emptied first: dropping the subscriptions deletes the list without releasing its packets.
        await limits.wmgTrimSession(outgoingKey(clientId), 0);
        await cleanSession(clientId);
      }
    }
  };
  const every = Math.min(Math.max(Math.floor(options.sessionExpiryMs / 4), 50), LONGEST_SWEEP_MS);
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    sweep()
      .catch((err: Error) => options.log.error('persistent session sweep failed', { code: 'store_unavailable', error: err.message }))
      .finally(() => (sweeping = false));
  }, every);
  timer.unref();
  return () => clearInterval(timer);
}
