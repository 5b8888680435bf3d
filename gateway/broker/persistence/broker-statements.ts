import type Database from 'better-sqlite3';
import type { Store } from '../../store/open-store.js';

// The broker tables' statements; the schema is in gateway/store/open-store.ts.
const SQL = {
  insertOutgoing: 'INSERT INTO broker_outgoing (seq, client_id, meta, payload) VALUES (?, ?, ?, ?)',
  updateOutgoing: 'UPDATE broker_outgoing SET meta = ?, payload = ? WHERE seq = ?',
  deleteOutgoing: 'DELETE FROM broker_outgoing WHERE seq BETWEEN ? AND ?',
  putSubscription: 'INSERT INTO broker_subscriptions (client_id, topic, options) VALUES (?, ?, ?) ON CONFLICT (client_id, topic) DO UPDATE SET options = excluded.options',
  deleteSubscription: 'DELETE FROM broker_subscriptions WHERE client_id = ? AND topic = ?',
  deleteSubscriptionsOf: 'DELETE FROM broker_subscriptions WHERE client_id = ?',
  touchSession: 'INSERT INTO broker_sessions (client_id, last_seen) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET last_seen = excluded.last_seen',
  deleteSession: 'DELETE FROM broker_sessions WHERE client_id = ?',
  putRetained: 'INSERT INTO broker_retained (topic, meta, payload) VALUES (?, ?, ?) ON CONFLICT (topic) DO UPDATE SET meta = excluded.meta, payload = excluded.payload',
  deleteRetained: 'DELETE FROM broker_retained WHERE topic = ?',
  putWill: 'INSERT INTO broker_wills (client_id, meta, payload) VALUES (?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET meta = excluded.meta, payload = excluded.payload',
  deleteWill: 'DELETE FROM broker_wills WHERE client_id = ?',
  putIncoming: 'INSERT INTO broker_incoming (client_id, message_id, meta, payload) VALUES (?, ?, ?, ?) ON CONFLICT (client_id, message_id) DO UPDATE SET meta = excluded.meta, payload = excluded.payload',
  deleteIncoming: 'DELETE FROM broker_incoming WHERE client_id = ? AND message_id = ?',
  deleteIncomingOf: 'DELETE FROM broker_incoming WHERE client_id = ?',
} as const;

export type BrokerStatements = Record<keyof typeof SQL, Database.Statement>;

/** Prepares every statement once per store, so the hot path only binds and runs. */
export function prepareBrokerStatements(store: Store): BrokerStatements {
  return Object.fromEntries(Object.entries(SQL).map(([name, sql]) => [name, store.prepare(sql)])) as BrokerStatements;
}
