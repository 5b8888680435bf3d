import type { Redis } from 'ioredis';
import type { UserRow, UserRows } from '../registry/user-rows.js';
import { CHANGES_KEY, RECORD_CHANGE_LUA } from './redis-changes.js';
import { HASHES_IN_ORDER_LUA, hashRecord } from './redis-hashes.js';

const USER = 'wmg:user:';
const ALL = 'wmg:users';

// KEYS: user hash, name set. The check and the writes are one script, so two
// concurrent inserts of one name cannot both succeed.
const INSERT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return 1
`;

// KEYS: user hash, name set, change stream. ARGV: name.
const DELETE = `${RECORD_CHANGE_LUA}
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
record_change(KEYS[3], 'user', ARGV[1])
return 1
`;

interface UserCommands {
  wmgUserInsert(user: string, all: string, name: string, ...fields: string[]): Promise<number>;
  wmgUserDelete(user: string, all: string, stream: string, name: string): Promise<number>;
  wmgUserAll(all: string, userPrefix: string): Promise<string[][]>;
}

/** Backend users in Redis, shared by every gateway node and the CLI (key layout: docs/scale-out.md). */
export class RedisUserRows implements UserRows {
  readonly #redis: Redis & UserCommands;

  constructor(redis: Redis) {
    redis.defineCommand('wmgUserInsert', { numberOfKeys: 2, lua: INSERT });
    redis.defineCommand('wmgUserDelete', { numberOfKeys: 3, lua: DELETE });
    redis.defineCommand('wmgUserAll', { numberOfKeys: 1, lua: HASHES_IN_ORDER_LUA });
    this.#redis = redis as Redis & UserCommands;
  }

  async insert(row: UserRow): Promise<boolean> {
    const fields = [
      'name', row.name,
      'passwordHash', row.passwordHash,
      'allowPub', JSON.stringify(row.allowPub),
      'allowSub', JSON.stringify(row.allowSub),
      'createdAt', String(row.createdAt),
    ];
    return (await this.#redis.wmgUserInsert(USER + row.name, ALL, row.name, ...fields)) === 1;
  }

  async byName(name: string): Promise<UserRow | undefined> {
    return toRow(await this.#redis.hgetall(USER + name));
  }

  async all(): Promise<UserRow[]> {
    const rows = await this.#redis.wmgUserAll(ALL, USER);
    return rows.map((flat) => toRow(hashRecord(flat))).filter((row): row is UserRow => row !== undefined);
  }

  async delete(name: string): Promise<boolean> {
    return (await this.#redis.wmgUserDelete(USER + name, ALL, CHANGES_KEY, name)) === 1;
  }
}

function toRow(hash: Record<string, string>): UserRow | undefined {
  if (hash.name === undefined) return undefined;
  return {
    name: hash.name,
    passwordHash: hash.passwordHash!,
    allowPub: JSON.parse(hash.allowPub!) as string[],
    allowSub: JSON.parse(hash.allowSub!) as string[],
    createdAt: Number(hash.createdAt),
  };
}
