import type { Redis } from 'ioredis';
import type { CommandQueue, EnqueueOutcome, QueuedCommand } from '../command/queue.js';
import { hashRecord } from './redis-hashes.js';

// Key layout (docs/scale-out.md): one hash per command; per device the queued ids in
// FIFO order (scored by a global sequence); across devices the queued commands by
// expiry, the delivered ones by delivery time and the finished ones by finish time,
// so each sweep reads only what is due. Members of the three global sets are command keys.
const COMMAND = 'wmg:cmd:';
const QUEUED = 'wmg:cmd-queued:';
const SEQ = 'wmg:cmd-seq';
const BY_EXPIRY = 'wmg:cmd-expiry';
const BY_DELIVERY = 'wmg:cmd-delivered';
const BY_FINISH = 'wmg:cmd-finished';

// Sweeps take at most this many commands per script, so one sweep never blocks Redis
// for long; they repeat until a batch comes back short.
const BATCH = 500;

// Device ids have no ':' (topics.ts), so device and id cannot run into each other.
const commandKey = (device: string, id: string) => `${COMMAND}${device}:${id}`;

// KEYS: command, device queue, expiry set, sequence. ARGV: max queued, device, id, name,
// params, acceptedAt, expiresAt. Known ids (finished ones too, until pruned) are duplicates.
const ENQUEUE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[1]) then return 'queue_full' end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], 'device', ARGV[2], 'id', ARGV[3], 'name', ARGV[4], 'params', ARGV[5],
  'acceptedAt', ARGV[6], 'expiresAt', ARGV[7], 'status', 'accepted', 'seq', seq)
redis.call('ZADD', KEYS[2], seq, ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[7], KEYS[1])
return 'accepted'
`;

// KEYS: device queue. ARGV: the device's command key prefix, now.
const PENDING = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local expires = redis.call('HGET', ARGV[1] .. id, 'expiresAt')
  if expires and tonumber(expires) > tonumber(ARGV[2]) then out[#out + 1] = redis.call('HGETALL', ARGV[1] .. id) end
end
return out
`;

// KEYS: command, device queue, expiry set, delivered set. ARGV: id, at.
const MARK_DELIVERED = `
if redis.call('HGET', KEYS[1], 'status') ~= 'accepted' then return 0 end
redis.call('HSET', KEYS[1], 'status', 'delivered', 'deliveredAt', ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], KEYS[1])
redis.call('ZADD', KEYS[4], ARGV[2], KEYS[1])
return 1
`;

// KEYS: command, delivered set, finished set. ARGV: status, at.
const FINISH = `
if redis.call('HGET', KEYS[1], 'status') ~= 'delivered' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finishedAt', ARGV[2])
redis.call('ZREM', KEYS[2], KEYS[1])
redis.call('ZADD', KEYS[3], ARGV[2], KEYS[1])
return 1
`;

// KEYS: the set the commands are due in, finished set. ARGV: due up to (inclusive), now,
// new status, batch size, device queue prefix. Each taken command leaves the due set in
// the same script, so nodes sweeping at once never take one twice.
const TAKE = `
local taken = {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))) do
  redis.call('ZREM', KEYS[1], key)
  local device = redis.call('HGET', key, 'device')
  if device then
    redis.call('ZREM', ARGV[5] .. device, redis.call('HGET', key, 'id'))
    redis.call('HSET', key, 'status', ARGV[3], 'finishedAt', ARGV[2])
    redis.call('ZADD', KEYS[2], ARGV[2], key)
    taken[#taken + 1] = redis.call('HGETALL', key)
  end
end
return taken
`;

// KEYS: finished set. ARGV: finished before (exclusive), batch size.
const PRUNE = `
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, key in ipairs(keys) do
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], key)
end
return #keys
`;

interface QueueCommands {
  wmgCmdEnqueue(command: string, queued: string, expiry: string, seq: string, ...args: (string | number)[]): Promise<EnqueueOutcome>;
  wmgCmdPending(queued: string, prefix: string, now: number): Promise<string[][]>;
  wmgCmdDelivered(command: string, queued: string, expiry: string, delivered: string, id: string, at: number): Promise<number>;
  wmgCmdFinish(command: string, delivered: string, finished: string, status: string, at: number): Promise<number>;
  wmgCmdTake(due: string, finished: string, upTo: number, now: number, status: string, batch: number, queuedPrefix: string): Promise<string[][]>;
  wmgCmdPrune(finished: string, before: number, batch: number): Promise<number>;
}

/** The command queue in Redis, shared by every gateway node; each transition is one Lua script. */
export class RedisCommandQueue implements CommandQueue {
  readonly #redis: Redis & QueueCommands;

  constructor(redis: Redis) {
    redis.defineCommand('wmgCmdEnqueue', { numberOfKeys: 4, lua: ENQUEUE });
    redis.defineCommand('wmgCmdPending', { numberOfKeys: 1, lua: PENDING });
    redis.defineCommand('wmgCmdDelivered', { numberOfKeys: 4, lua: MARK_DELIVERED });
    redis.defineCommand('wmgCmdFinish', { numberOfKeys: 3, lua: FINISH });
    redis.defineCommand('wmgCmdTake', { numberOfKeys: 2, lua: TAKE });
    redis.defineCommand('wmgCmdPrune', { numberOfKeys: 1, lua: PRUNE });
    this.#redis = redis as Redis & QueueCommands;
  }

  async enqueue(command: QueuedCommand, maxQueued: number): Promise<EnqueueOutcome> {
    const { device, id } = command;
    return this.#redis.wmgCmdEnqueue(commandKey(device, id), QUEUED + device, BY_EXPIRY, SEQ, maxQueued, device, id, command.name,
      JSON.stringify(command.params), command.acceptedAt, command.expiresAt);
  }

  async pending(device: string, now: number): Promise<QueuedCommand[]> {
    return (await this.#redis.wmgCmdPending(QUEUED + device, commandKey(device, ''), now)).map(toCommand);
  }

  async markDelivered(device: string, id: string, at: number): Promise<boolean> {
    return (await this.#redis.wmgCmdDelivered(commandKey(device, id), QUEUED + device, BY_EXPIRY, BY_DELIVERY, id, at)) === 1;
  }

  async finish(device: string, id: string, status: 'succeeded' | 'failed', at: number): Promise<boolean> {
    return (await this.#redis.wmgCmdFinish(commandKey(device, id), BY_DELIVERY, BY_FINISH, status, at)) === 1;
  }

  async takeExpired(now: number): Promise<QueuedCommand[]> {
    return this.#take(BY_EXPIRY, now, now, 'expired');
  }

  async takeTimedOut(deliveredBefore: number, now: number): Promise<QueuedCommand[]> {
    return this.#take(BY_DELIVERY, deliveredBefore, now, 'timed_out');
  }

  async prune(before: number): Promise<void> {
    let forgotten: number;
    do forgotten = await this.#redis.wmgCmdPrune(BY_FINISH, before, BATCH);
    while (forgotten === BATCH);
  }

  async depth(): Promise<number> {
    return this.#redis.zcard(BY_EXPIRY);
  }

  async #take(due: string, upTo: number, now: number, status: 'expired' | 'timed_out'): Promise<QueuedCommand[]> {
    const taken: Array<Record<string, string>> = [];
    let batch: string[][];
    do {
      batch = await this.#redis.wmgCmdTake(due, BY_FINISH, upTo, now, status, BATCH, QUEUED);
      taken.push(...batch.map(hashRecord));
    } while (batch.length === BATCH);
    // Acceptance order, as the SQLite queue reports them.
    return taken.sort((a, b) => Number(a.seq) - Number(b.seq)).map(toQueued);
  }
}

const toCommand = (flat: string[]): QueuedCommand => toQueued(hashRecord(flat));

function toQueued(hash: Record<string, string>): QueuedCommand {
  return {
    device: hash.device!,
    id: hash.id!,
    name: hash.name!,
    params: JSON.parse(hash.params!) as Record<string, unknown>,
    acceptedAt: Number(hash.acceptedAt),
    expiresAt: Number(hash.expiresAt),
  };
}
