import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Presence } from '../device/presence.js';

// Per device: `wmg:conns:{device}` maps node id -> that node's live connections;
// `wmg:presence:{device}` holds `since` (when the device came online, or went offline)
// and `newest` (the node of its newest connection, where commands go). A node's
// `wmg:node-devices:{node}` lists the devices it holds, for reaping it when it dies.
// One script, so the count another node reads is never half-updated.
const UPDATE = `
local function total(key)
  local sum = 0
  for _, n in ipairs(redis.call('HVALS', key)) do sum = sum + tonumber(n) end
  return sum
end
local conns, meta, held = KEYS[1], KEYS[2], KEYS[3]
local node, count, joined, device = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', ARGV[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local before = total(conns)
if count > 0 then
  redis.call('HSET', conns, node, count)
  redis.call('SADD', held, device)
else
  redis.call('HDEL', conns, node)
  redis.call('SREM', held, device)
end
local after = total(conns)
if (before == 0) ~= (after == 0) or redis.call('HEXISTS', meta, 'since') == 0 then
  redis.call('HSET', meta, 'since', now)
end
if joined then
  redis.call('HSET', meta, 'newest', node)
elseif redis.call('HGET', meta, 'newest') == node and count == 0 then
  local nodes = redis.call('HKEYS', conns)
  if #nodes > 0 then redis.call('HSET', meta, 'newest', nodes[1]) else redis.call('HDEL', meta, 'newest') end
end
return { after, tonumber(redis.call('HGET', meta, 'since')), redis.call('HGET', meta, 'newest') or '' }
`;

type PresenceRedis = Redis & {
  wmgPresence(conns: string, meta: string, held: string, node: string, count: number, joined: string, device: string): Promise<[number, number, string]>;
};

export interface PresenceOutcome {
  presence: Presence;
  /** The node holding the device's newest connection ('' when offline). */
  newest: string;
}

/**
 * Device presence counted over every node. Each node reports its own connection count
 * per device; what it publishes is the cluster's total. Reports for one device are sent
 * in the order they happened here, one at a time.
 */
export class ClusterPresence {
  readonly #redis: PresenceRedis;
  readonly #chains = new Map<string, Promise<void>>();

  constructor(
    redis: Redis,
    readonly nodeId: string,
    private readonly onOutcome: (device: string, outcome: PresenceOutcome) => void,
    private readonly log: Logger,
  ) {
    redis.defineCommand('wmgPresence', { numberOfKeys: 3, lua: UPDATE });
    this.#redis = redis as PresenceRedis;
  }

  /** This node now holds `count` connections of the device (`joined`: one was added). */
  report(device: string, count: number, joined: boolean): void {
    this.#chain(device, () => this.#update(this.nodeId, device, count, joined));
  }

  /** A dead node's connections no longer count; resolves when every device of it is corrected. */
  async reap(node: string): Promise<number> {
    const devices = await this.#redis.smembers(heldKey(node));
    await Promise.all(devices.map((device) => this.#update(node, device, 0, false)));
    await this.#redis.del(heldKey(node));
    return devices.length;
  }

  /** Resolves once every report made so far is recorded (and its outcome handed on). */
  async drain(): Promise<void> {
    await Promise.all(this.#chains.values());
  }

  /** The node of the device's newest connection, or '' when it has none. */
  async newestNode(device: string): Promise<string> {
    return (await this.#redis.hget(metaKey(device), 'newest')) ?? '';
  }

  async #update(node: string, device: string, count: number, joined: boolean): Promise<void> {
    const [connections, since, newest] = await this.#redis.wmgPresence(connsKey(device), metaKey(device), heldKey(node), node, count, joined ? '1' : '0', device);
    this.onOutcome(device, { presence: { online: connections > 0, since, connections }, newest });
  }

  #chain(device: string, step: () => Promise<void>): void {
    const previous = this.#chains.get(device) ?? Promise.resolve();
    const next = previous.then(step).catch((err: Error) => {
      // The next report for the device corrects the count; until then presence may lag.
      this.log.error('presence not recorded', { code: 'store_unavailable', device, error: err.message });
    });
    this.#chains.set(device, next);
    void next.then(() => {
      if (this.#chains.get(device) === next) this.#chains.delete(device);
    });
  }
}

const connsKey = (device: string) => `wmg:conns:${device}`;
const metaKey = (device: string) => `wmg:presence:${device}`;
const heldKey = (node: string) => `wmg:node-devices:${node}`;
