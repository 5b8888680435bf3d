import type { Store } from '../../store/open-store.js';
import type { PacketRow } from './stored-packet.js';
import type { SubscriptionOptions } from './subscription-index.js';

export interface BrokerState {
  sessions: Map<string, number>;
  subscriptions: Map<string, Array<SubscriptionOptions & { topic: string }>>;
  /** Per client, its queued rows in seq order (the order aedes sends them). */
  outgoing: Map<string, Array<{ seq: number; row: PacketRow }>>;
  retained: Map<string, PacketRow>;
  wills: Map<string, PacketRow>;
  incoming: Array<{ clientId: string; messageId: number; row: PacketRow }>;
  lastSeq: number;
}

/** Reads the broker's tables back at start, as committed by the last run (crashed or not). */
export function loadBrokerState(store: Store): BrokerState {
  const state: BrokerState = { sessions: new Map(), subscriptions: new Map(), outgoing: new Map(), retained: new Map(), wills: new Map(), incoming: [], lastSeq: 0 };
  for (const { client_id, last_seen } of store.prepare('SELECT client_id, last_seen FROM broker_sessions').all() as Array<{ client_id: string; last_seen: number }>) {
    state.sessions.set(client_id, last_seen);
  }
  for (const { client_id, topic, options } of store.prepare('SELECT client_id, topic, options FROM broker_subscriptions ORDER BY rowid').all() as Array<{
    client_id: string;
    topic: string;
    options: string;
  }>) {
    let subs = state.subscriptions.get(client_id);
    if (!subs) state.subscriptions.set(client_id, (subs = []));
    subs.push({ topic, ...(JSON.parse(options) as SubscriptionOptions) });
  }
  for (const { seq, client_id, meta, payload } of store.prepare('SELECT seq, client_id, meta, payload FROM broker_outgoing ORDER BY seq').iterate() as IterableIterator<
    { seq: number; client_id: string } & PacketRow
  >) {
    let rows = state.outgoing.get(client_id);
    if (!rows) state.outgoing.set(client_id, (rows = []));
    rows.push({ seq, row: { meta, payload } });
    state.lastSeq = seq;
  }
  for (const { topic, meta, payload } of store.prepare('SELECT topic, meta, payload FROM broker_retained').all() as Array<{ topic: string } & PacketRow>) {
    state.retained.set(topic, { meta, payload });
  }
  for (const { client_id, meta, payload } of store.prepare('SELECT client_id, meta, payload FROM broker_wills').all() as Array<{ client_id: string } & PacketRow>) {
    state.wills.set(client_id, { meta, payload });
  }
  for (const { client_id, message_id, meta, payload } of store.prepare('SELECT client_id, message_id, meta, payload FROM broker_incoming').all() as Array<
    { client_id: string; message_id: number } & PacketRow
  >) {
    state.incoming.push({ clientId: client_id, messageId: message_id, row: { meta, payload } });
  }
  return state;
}
