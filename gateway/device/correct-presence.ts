import type { Aedes } from 'aedes';
import type { SqlitePersistence } from '../broker/persistence/sqlite-persistence.js';
import type { BrokerPacket } from '../broker/persistence/stored-packet.js';
import { publishJson } from '../broker/publish.js';
import type { Logger } from '../log.js';
import type { Topics } from '../topics.js';
import type { Presence } from './presence.js';

/**
 * Retained presence outlives the gateway (the broker's state is in the store), so
 * after a crash it still says "online" for devices whose sockets died with the
 * process. Before the device listener opens, each of those is published offline;
 * a device that reconnects is published online again as usual.
 */
export async function correctPresence(persistence: SqlitePersistence, aedes: Aedes, topics: Topics, log: Logger): Promise<void> {
  const stale: string[] = [];
  for await (const packet of persistence.createRetainedStream(topics.presence('+')) as AsyncIterable<BrokerPacket>) {
    if (isOnline(packet.payload ?? '')) stale.push(packet.topic!);
  }
  const since = Date.now();
  const offline: Presence = { online: false, since, connections: 0 };
  await Promise.all(stale.map((topic) => publishJson(aedes, topic, offline, true)));
  if (stale.length > 0) log.info('presence of devices online at the last stop published offline', { devices: stale.length });
}

function isOnline(payload: Buffer | string): boolean {
  try {
    return (JSON.parse(payload.toString()) as Partial<Presence>).online === true;
  } catch {
    return false; // not ours to correct: the gateway only ever retains JSON presence
  }
}
