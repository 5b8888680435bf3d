import type { Redis } from 'ioredis';
import type { JsonObject, StoredTwin, TwinStore } from '../twin/twin-store.js';

const TWIN = 'wmg:twin:';

// KEYS: twin hash. ARGV: expected version, new version, desired JSON, at. Compare-and-set on
// the version in one script, so two nodes cannot both move a twin from version N.
const WRITE_DESIRED = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'desired', ARGV[3], 'updatedAt', ARGV[4])
if redis.call('HEXISTS', KEYS[1], 'reported') == 0 then redis.call('HSET', KEYS[1], 'reported', '{}') end
return 1
`;

// KEYS: twin hash. ARGV: the patch's keys and values as one JSON object, at. The merge runs
// inside Redis, so reports arriving at two nodes at once both land.
const MERGE_REPORTED = `
local raw = redis.call('HGET', KEYS[1], 'reported')
local reported = raw and cjson.decode(raw) or {}
for key, value in pairs(cjson.decode(ARGV[1])) do reported[key] = value end
local text = cjson.encode(reported)
if text == '[]' then text = '{}' end
redis.call('HSET', KEYS[1], 'reported', text, 'updatedAt', ARGV[2])
if redis.call('HEXISTS', KEYS[1], 'version') == 0 then redis.call('HSET', KEYS[1], 'version', '0', 'desired', '{}') end
return 1
`;

interface TwinCommands {
  wmgTwinWriteDesired(key: string, expected: number, version: number, desired: string, at: number): Promise<number>;
  wmgTwinMergeReported(key: string, patch: string, at: number): Promise<number>;
}

/** Twins in Redis, shared by every node of a cluster: one hash per device (docs/scale-out.md). */
export class RedisTwinStore implements TwinStore {
  readonly #redis: Redis & TwinCommands;

  constructor(redis: Redis) {
    redis.defineCommand('wmgTwinWriteDesired', { numberOfKeys: 1, lua: WRITE_DESIRED });
    redis.defineCommand('wmgTwinMergeReported', { numberOfKeys: 1, lua: MERGE_REPORTED });
    this.#redis = redis as Redis & TwinCommands;
  }

  async get(device: string): Promise<StoredTwin> {
    const row = await this.#redis.hgetall(TWIN + device);
    if (row.version === undefined) return { device, version: 0, desired: {}, reported: {}, updatedAt: 0 };
    return {
      device,
      version: Number(row.version),
      desired: JSON.parse(row.desired ?? '{}') as JsonObject,
      reported: JSON.parse(row.reported ?? '{}') as JsonObject,
      updatedAt: Number(row.updatedAt ?? 0),
    };
  }

  async writeDesired(device: string, desired: JsonObject, expectedVersion: number, at: number): Promise<StoredTwin | undefined> {
    const written = await this.#redis.wmgTwinWriteDesired(TWIN + device, expectedVersion, expectedVersion + 1, JSON.stringify(desired), at);
    return written === 1 ? this.get(device) : undefined;
  }

  async mergeReported(device: string, patch: JsonObject, at: number): Promise<StoredTwin> {
    await this.#redis.wmgTwinMergeReported(TWIN + device, JSON.stringify(patch), at);
    return this.get(device);
  }
}
