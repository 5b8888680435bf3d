import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';

const HEARTBEAT_MS = 1000;
/** A node silent this long is dead: its devices' presence is corrected by a survivor. */
export const NODE_TTL_MS = 5000;
const REAP_EVERY_MS = 2000;
const NODES = 'wmg:nodes';

// Redis' clock, not the nodes': hosts whose clocks disagree still agree on who is silent.
// Returns 1 when the node was not registered: a survivor took it for dead (Redis was away
// from it for longer than the TTL), so what it holds must be reported again.
const BEAT = `
local t = redis.call('TIME')
return redis.call('ZADD', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[1])
`;
// Removing a dead node from the set is the claim: of several survivors exactly one gets 1.
const CLAIM_DEAD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
local claimed = {}
for _, node in ipairs(dead) do
  if node ~= ARGV[2] and redis.call('ZREM', KEYS[1], node) == 1 then table.insert(claimed, node) end
end
return claimed
`;

type LivenessRedis = Redis & {
  wmgBeat(key: string, node: string): Promise<number>;
  wmgClaimDead(key: string, ttlMs: number, self: string): Promise<string[]>;
};

/**
 * Registers this node in Redis with a heartbeat, and takes over for nodes that stopped
 * beating (kill -9, a host gone): `onDead` corrects what they held. A node that was taken
 * for dead while it lived (cut off from Redis past the TTL) calls `onRevived` to report
 * its devices again. Returns the stop, which also deregisters the node (a clean shutdown
 * has already closed its devices).
 */
export async function startNodeLiveness(
  redis: Redis,
  nodeId: string,
  handlers: { onDead(node: string): Promise<void>; onRevived(): void },
  log: Logger,
): Promise<() => Promise<void>> {
  redis.defineCommand('wmgBeat', { numberOfKeys: 1, lua: BEAT });
  redis.defineCommand('wmgClaimDead', { numberOfKeys: 1, lua: CLAIM_DEAD });
  const live = redis as LivenessRedis;
  await live.wmgBeat(NODES, nodeId);
  const beat = setInterval(() => {
    live.wmgBeat(NODES, nodeId).then(
      (added) => {
        if (added !== 1) return;
        log.warn('this node was taken for dead while cut off from redis; reporting its devices again', { code: 'node_lost', node: nodeId });
        handlers.onRevived();
      },
      (err: Error) => log.warn('node heartbeat failed', { code: 'store_unavailable', node: nodeId, error: err.message }),
    );
  }, HEARTBEAT_MS);
  beat.unref();
  let reaping = false;
  const reap = async () => {
    if (reaping) return;
    reaping = true;
    try {
      for (const node of await live.wmgClaimDead(NODES, NODE_TTL_MS, nodeId)) {
        log.warn('gateway node stopped beating; taking over its devices', { code: 'node_lost', node });
        await handlers.onDead(node);
      }
    } catch (err) {
      log.error('reaping dead nodes failed', { code: 'store_unavailable', error: (err as Error).message });
    } finally {
      reaping = false;
    }
  };
  // Nodes that died before this one started (a whole cluster restarted) are corrected at once.
  await reap();
  const reaper = setInterval(() => void reap(), REAP_EVERY_MS);
  reaper.unref();
  return async () => {
    clearInterval(beat);
    clearInterval(reaper);
    await redis.zrem(NODES, nodeId);
  };
}
