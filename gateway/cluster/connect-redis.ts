import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';

const CONNECT_TIMEOUT_MS = 5000;

/** The URL without its password, for messages and logs. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Connects to the cluster's Redis, or fails start with a ConfigError (exit 2) naming it.
 * While Redis is away, commands fail after a couple of reconnect attempts instead of
 * piling up: the data path then answers store_unavailable rather than acking late or never.
 * Each loss and each recovery is logged once.
 */
export async function connectRedis(url: string, log: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    // Commands issued in one event-loop turn leave in one write. The bus' publishing
    // connection turns this off and corks its socket instead (cluster/bus-codec.ts).
    enableAutoPipelining: true,
  });
  watchAvailability(redis, url, log);
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS).unref()),
    ]);
  } catch (err) {
    redis.disconnect();
    throw new ConfigError(`store_unavailable: cannot reach Redis at ${redactRedisUrl(url)} (cluster.redis): ${(err as Error).message}`);
  }
  return redis;
}

/** A second connection with the same options (subscribers and blocking reads need their own). */
export function duplicateRedis(redis: Redis, url: string, log: Logger, overrides: Partial<RedisOptions> = {}): Redis {
  const copy = redis.duplicate(overrides);
  watchAvailability(copy, url, log, true);
  return copy;
}

const closing = new WeakSet<Redis>();

/** Closes a connection on purpose: not logged as Redis going away. */
export async function closeRedis(redis: Redis): Promise<void> {
  closing.add(redis);
  if (redis.status === 'ready') await redis.quit();
  else redis.disconnect();
}

function watchAvailability(redis: Redis, url: string, log: Logger, quiet = false): void {
  let lost = false;
  redis.on('error', (err: Error) => log.debug('redis connection error', { code: 'store_unavailable', error: err.message }));
  redis.on('close', () => {
    if (lost || closing.has(redis)) return;
    lost = true;
    if (!quiet) log.error('redis unreachable; device messages are refused until it is back', { code: 'store_unavailable', redis: redactRedisUrl(url) });
  });
  redis.on('ready', () => {
    if (!lost) return;
    lost = false;
    if (!quiet) log.info('redis reachable again', { redis: redactRedisUrl(url) });
  });
}
