import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { ChangeKind, RegistryChange } from '../registry/changes.js';

export const CHANGES_KEY = 'wmg:registry-changes';

// Every node reads the stream as it grows, so only a short tail is ever needed; the
// cap keeps it from growing without bound ("~" lets Redis trim whole nodes, cheaply).
const MAX_CHANGES = 10_000;
const BLOCK_MS = 1000;
const BATCH = 100;
const RETRY_MS = 250;

/**
 * Lua for the scripts of redis-device-rows.ts and redis-user-rows.ts: appends a change
 * to the stream inside the script that makes it, so a change is never left unannounced.
 */
export const RECORD_CHANGE_LUA = `
local function record_change(stream, kind, subject)
  redis.call('XADD', stream, 'MAXLEN', '~', '${MAX_CHANGES}', '*', 'kind', kind, 'subject', subject)
end
`;

/**
 * Follows the change stream from its current end so revoke, rotate and user removal
 * made anywhere (the CLI, another node) act on this node's live connections: XREAD
 * blocks at most BLOCK_MS, so a change arrives well within 1 s. It reads on its own
 * connection (a blocked XREAD holds it), and across a Redis restart it reconnects and
 * continues after the last entry it saw. Returns the function that stops it.
 */
export function watchRedisChanges(redis: Redis, log: Logger, onChange: (change: RegistryChange) => Promise<void>): () => void {
  const reader = redis.duplicate();
  let stopped = false;
  // An outage is logged once, however many reconnects and failed reads it lasts.
  let unreachable = false;
  const lost = (err: Error) => {
    if (unreachable || stopped) return;
    unreachable = true;
    log.error('registry change feed lost its Redis connection; retrying', { code: 'store_unavailable', error: err.message });
  };
  reader.on('error', lost);

  const deliver = (change: RegistryChange) =>
    onChange(change).catch((err: Error) =>
      log.error('registry change not enforced', { code: 'store_unavailable', kind: change.kind, subject: change.subject, error: err.message }),
    );

  // The end is read on the caller's connection, queued now: a change the caller makes on
  // it after this call returns lands after the end and is delivered.
  let starting: Promise<string> | undefined = streamEnd(redis);
  const follow = async () => {
    let last: string | undefined;
    while (!stopped) {
      try {
        last ??= await (starting ?? streamEnd(reader));
        const batch = await reader.xread('COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', CHANGES_KEY, last);
        if (unreachable) {
          unreachable = false;
          log.info('registry change feed reading from Redis again');
        }
        for (const [id, fields] of batch?.[0]?.[1] ?? []) {
          last = id;
          const change = toChange(id, fields);
          if (change) void deliver(change);
          else log.error('registry change entry malformed; skipped', { code: 'internal_error', id });
        }
      } catch (err) {
        starting = undefined;
        if (stopped) return;
        lost(err as Error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  };
  void follow();
  return () => {
    stopped = true;
    reader.disconnect();
  };
}

// The id of the newest entry, so a node starting now acts only on changes made from now on.
async function streamEnd(redis: Redis): Promise<string> {
  const newest = await redis.xrevrange(CHANGES_KEY, '+', '-', 'COUNT', 1);
  return newest[0]?.[0] ?? '0-0';
}

function toChange(id: string, fields: string[]): RegistryChange | undefined {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i]!, fields[i + 1]!);
  const kind = values.get('kind');
  const subject = values.get('subject');
  if ((kind !== 'device' && kind !== 'user') || subject === undefined) return undefined;
  return { seq: id, kind: kind satisfies ChangeKind, subject };
}
