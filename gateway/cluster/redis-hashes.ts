/**
 * Lua returning, in the order of the sorted set KEYS[1], the hash ARGV[1] .. member of
 * each member (flat field/value arrays). Its members all score 0, so ZRANGE orders them
 * bytewise, as SQLite's ORDER BY on a text key.
 */
export const HASHES_IN_ORDER_LUA = `
local rows = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  rows[#rows + 1] = redis.call('HGETALL', ARGV[1] .. member)
end
return rows
`;

/** A flat field/value reply (HGETALL inside a script) as a record. */
export function hashRecord(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
  return record;
}
