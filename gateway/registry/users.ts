import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { isValidTopicFilter } from '../broker/topic-filters.js';
import { fail, ok, type Result } from '../errors.js';
import { LoginCache } from './login-cache.js';
import type { UserRow, UserRows } from './user-rows.js';

export interface BackendUser {
  name: string;
  allowPub: string[];
  allowSub: string[];
}

export interface UserRecord extends BackendUser {
  createdAt: number;
}

// Same shape as device ids: user names end up in logs and MQTT client metadata.
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

// scrypt with N=2^15, r=8 (32 MiB, ~100 ms): slow enough to make offline guessing
// of a stolen store expensive. The parameters are stored with each hash so they
// can be raised later without invalidating existing users.
const KDF = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 } as const;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number; keyLength: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, params.keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, KDF);
  return ['scrypt', KDF.N, KDF.r, KDF.p, salt.toString('base64'), key.toString('base64')].join('$');
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), {
    N: Number(N),
    r: Number(r),
    p: Number(p),
    keyLength: expected.length,
  });
  return timingSafeEqual(actual, expected);
}

// Unknown names still pay for one KDF run, so timing does not tell which names exist.
const DECOY_HASH = hashPassword(randomBytes(16).toString('hex'));

/** Backend MQTT users: hashed passwords and publish/subscribe ACL patterns, over the shared user rows. */
export class UserRegistry {
  readonly #logins = new LoginCache();

  constructor(private readonly rows: UserRows) {}

  async add(name: string, password: string, allowPub: string[], allowSub: string[]): Promise<Result<BackendUser>> {
    if (!USER_NAME.test(name)) return fail('invalid_user_name');
    if (password.length === 0) return fail('empty_password');
    if (![...allowPub, ...allowSub].every(isValidTopicFilter)) return fail('invalid_topic_filter');
    if (await this.rows.byName(name)) return fail('user_exists');
    const passwordHash = await hashPassword(password);
    const inserted = await this.rows.insert({ name, passwordHash, allowPub, allowSub, createdAt: Date.now() });
    return inserted ? ok({ name, allowPub, allowSub }) : fail('user_exists');
  }

  async list(): Promise<UserRecord[]> {
    return (await this.rows.all()).map(toRecord);
  }

  /** Removes the user; a running gateway disconnects its live MQTT sessions. */
  async remove(name: string): Promise<Result<{ name: string }>> {
    const removed = await this.rows.delete(name);
    this.#logins.forget(name);
    return removed ? ok({ name }) : fail('unknown_user');
  }

  /**
   * Drops what this process remembers of the user's logins (after a removal made by
   * another process). Not needed for correctness, since recall() compares against the
   * stored hash, which is gone or new; it keeps a removed user's HMAC out of memory.
   */
  forgetLogins(name: string): void {
    this.#logins.forget(name);
  }

  async exists(name: string): Promise<boolean> {
    return (await this.rows.byName(name)) !== undefined;
  }

  /**
   * The user's ACL when name and password match a check this process already passed
   * against the current stored hash, without a KDF run; otherwise undefined (call verify).
   */
  async recall(name: string, password: string): Promise<BackendUser | undefined> {
    const row = await this.rows.byName(name);
    return row && this.#logins.has(name, password, row.passwordHash) ? toRecord(row) : undefined;
  }

  /** The user's ACL when name and password match, otherwise undefined; always one KDF run. */
  async verify(name: string, password: string): Promise<BackendUser | undefined> {
    const row = await this.rows.byName(name);
    if (!row) {
      await verifyPassword(password, await DECOY_HASH);
      return undefined;
    }
    if (!(await verifyPassword(password, row.passwordHash))) return undefined;
    // A removal (or removal and new add) during the ~100 ms run wins: the watcher that
    // closes a removed user's sessions may already have looked, and the cache must
    // not keep the HMAC of a hash that is gone.
    if ((await this.rows.byName(name))?.passwordHash !== row.passwordHash) return undefined;
    this.#logins.remember(name, password, row.passwordHash);
    return toRecord(row);
  }
}

function toRecord(row: UserRow): UserRecord {
  return { name: row.name, allowPub: row.allowPub, allowSub: row.allowSub, createdAt: row.createdAt };
}
