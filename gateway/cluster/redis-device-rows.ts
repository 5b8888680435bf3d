import type { Redis } from 'ioredis';
import type { DeviceRow, DeviceRows, DeviceUpdate } from '../registry/device-rows.js';
import { CHANGES_KEY, RECORD_CHANGE_LUA } from './redis-changes.js';
import { HASHES_IN_ORDER_LUA, hashRecord } from './redis-hashes.js';

const DEVICE = 'wmg:device:';
const BY_TOKEN = 'wmg:device-token:';
const ALL = 'wmg:devices';

// KEYS: device hash, token index entry, id set. Refuses a taken id or token hash, like
// the SQLite table's two unique keys; the check and the writes are one script, so two
// concurrent inserts of one id cannot both succeed.
const INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1
`;

// KEYS: device hash, change stream. ARGV: id, token index prefix, then field/value pairs;
// an empty value clears the field (null). A new token hash moves the index entry, so the
// old token finds nothing from the same instant on. Checks come first: a script's writes
// are not rolled back by a later error.
const UPDATE = `${RECORD_CHANGE_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #ARGV, 2 do
  if ARGV[i] == 'tokenHash' then
    local holder = redis.call('GET', ARGV[2] .. ARGV[i + 1])
    if holder and holder ~= ARGV[1] then return redis.error_reply('token hash already belongs to another device') end
  end
end
for i = 3, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
  if field == 'tokenHash' then
    local old = redis.call('HGET', KEYS[1], 'tokenHash')
    if old and old ~= value then redis.call('DEL', ARGV[2] .. old) end
    redis.call('SET', ARGV[2] .. value, ARGV[1])
  end
  if value == '' then redis.call('HDEL', KEYS[1], field) else redis.call('HSET', KEYS[1], field, value) end
end
record_change(KEYS[2], 'device', ARGV[1])
return 1
`;

// KEYS: token index entry. ARGV: device key prefix. One round trip per device connect.
const BY_TOKEN_HASH = `
local id = redis.call('GET', KEYS[1])
if not id then return {} end
return redis.call('HGETALL', ARGV[1] .. id)
`;

interface DeviceCommands {
  wmgDeviceInsert(device: string, token: string, all: string, id: string, ...fields: string[]): Promise<number>;
  wmgDeviceUpdate(device: string, stream: string, id: string, tokenPrefix: string, ...fields: string[]): Promise<number>;
  wmgDeviceAll(all: string, devicePrefix: string): Promise<string[][]>;
  wmgDeviceByToken(token: string, devicePrefix: string): Promise<string[]>;
}

/** Device rows in Redis, shared by every gateway node and the CLI (key layout: docs/scale-out.md). */
export class RedisDeviceRows implements DeviceRows {
  readonly #redis: Redis & DeviceCommands;

  constructor(redis: Redis) {
    redis.defineCommand('wmgDeviceInsert', { numberOfKeys: 3, lua: INSERT });
    redis.defineCommand('wmgDeviceUpdate', { numberOfKeys: 2, lua: UPDATE });
    redis.defineCommand('wmgDeviceAll', { numberOfKeys: 1, lua: HASHES_IN_ORDER_LUA });
    redis.defineCommand('wmgDeviceByToken', { numberOfKeys: 1, lua: BY_TOKEN_HASH });
    this.#redis = redis as Redis & DeviceCommands;
  }

  async insert(row: DeviceRow): Promise<boolean> {
    const fields = ['id', row.id, 'model', row.model, 'tokenHash', row.tokenHash, 'createdAt', String(row.createdAt)];
    if (row.rotatedAt !== null) fields.push('rotatedAt', String(row.rotatedAt));
    if (row.revokedAt !== null) fields.push('revokedAt', String(row.revokedAt));
    return (await this.#redis.wmgDeviceInsert(DEVICE + row.id, BY_TOKEN + row.tokenHash, ALL, row.id, ...fields)) === 1;
  }

  async byId(id: string): Promise<DeviceRow | undefined> {
    return toRow(await this.#redis.hgetall(DEVICE + id));
  }

  async byTokenHash(tokenHash: string): Promise<DeviceRow | undefined> {
    return toRow(hashRecord(await this.#redis.wmgDeviceByToken(BY_TOKEN + tokenHash, DEVICE)));
  }

  async all(): Promise<DeviceRow[]> {
    const rows = await this.#redis.wmgDeviceAll(ALL, DEVICE);
    return rows.map((flat) => toRow(hashRecord(flat))).filter((row): row is DeviceRow => row !== undefined);
  }

  async update(id: string, update: DeviceUpdate): Promise<boolean> {
    const fields: string[] = [];
    for (const [field, value] of Object.entries(update)) if (value !== undefined) fields.push(field, value === null ? '' : String(value));
    return (await this.#redis.wmgDeviceUpdate(DEVICE + id, CHANGES_KEY, id, BY_TOKEN, ...fields)) === 1;
  }
}

const optional = (value: string | undefined) => (value === undefined ? null : Number(value));

function toRow(hash: Record<string, string>): DeviceRow | undefined {
  if (hash.id === undefined) return undefined;
  return {
    id: hash.id,
    model: hash.model!,
    tokenHash: hash.tokenHash!,
    createdAt: Number(hash.createdAt),
    rotatedAt: optional(hash.rotatedAt),
    revokedAt: optional(hash.revokedAt),
  };
}
