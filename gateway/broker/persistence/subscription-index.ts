import { createRequire } from 'node:module';

// CommonJS, no type declarations: aedes-persistence's own subscription trie, so topic
// matching is aedes' own.
const require = createRequire(import.meta.url);
const QlobberSub = require('qlobber/aedes/qlobber-sub') as new (options: object) => SubscriptionTrie;
const TOPIC_RULES = { wildcard_one: '+', wildcard_some: '#', separator: '/' };

interface SubscriptionTrie {
  subscriptionsCount: number;
  add(topic: string, sub: object): void;
  remove(topic: string, sub: object): void;
  match(topic: string): Subscription[];
}

export interface SubscriptionOptions {
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}
export interface Subscription extends SubscriptionOptions {
  clientId: string;
  topic: string;
}

/**
 * The persistent sessions' subscriptions in memory: by client, and (QoS > 0 only, the
 * ones that queue anything) in a trie matched by topic on every publish.
 */
export class SubscriptionIndex {
  readonly #byClient = new Map<string, Map<string, SubscriptionOptions>>();
  readonly #trie = new QlobberSub(TOPIC_RULES);

  /** Adds or replaces; returns what to write, per topic. */
  add(clientId: string, subs: Array<SubscriptionOptions & { topic: string }>): Array<[string, SubscriptionOptions]> {
    let stored = this.#byClient.get(clientId);
    if (!stored) this.#byClient.set(clientId, (stored = new Map()));
    const added: Array<[string, SubscriptionOptions]> = [];
    for (const sub of subs) {
      const options: SubscriptionOptions = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl };
      if (sub.subscriptionIdentifier !== undefined) options.subscriptionIdentifier = sub.subscriptionIdentifier;
      if (sub.qos > 0) this.#trie.add(sub.topic, { clientId, topic: sub.topic, qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl });
      else if ((stored.get(sub.topic)?.qos ?? 0) > 0) this.#trie.remove(sub.topic, { clientId, topic: sub.topic });
      stored.set(sub.topic, options);
      added.push([sub.topic, options]);
    }
    return added;
  }

  remove(clientId: string, topics: string[]): void {
    const stored = this.#byClient.get(clientId);
    if (!stored) return;
    for (const topic of topics) {
      const sub = stored.get(topic);
      if (!sub) continue;
      if (sub.qos > 0) this.#trie.remove(topic, { clientId, topic });
      stored.delete(topic);
    }
    if (stored.size === 0) this.#byClient.delete(clientId);
  }

  /** Drops all of a client's subscriptions. */
  forget(clientId: string): void {
    for (const [topic, sub] of this.#byClient.get(clientId) ?? []) {
      if (sub.qos > 0) this.#trie.remove(topic, { clientId, topic });
    }
    this.#byClient.delete(clientId);
  }

  has(clientId: string): boolean {
    return this.#byClient.has(clientId);
  }

  clients(): IterableIterator<string> {
    return this.#byClient.keys();
  }

  ofClient(clientId: string): Array<SubscriptionOptions & { topic: string }> {
    const subs: Array<SubscriptionOptions & { topic: string }> = [];
    for (const [topic, options] of this.#byClient.get(clientId) ?? []) subs.push({ topic, ...options });
    return subs;
  }

  matching(topic: string): Subscription[] {
    return this.#trie.match(topic);
  }

  /** Clients subscribed to exactly this filter. */
  clientsOf(filter: string): string[] {
    const clients: string[] = [];
    for (const [clientId, subs] of this.#byClient) if (subs.has(filter)) clients.push(clientId);
    return clients;
  }

  counts(): { subsCount: number; clientsCount: number } {
    return { subsCount: this.#trie.subscriptionsCount, clientsCount: this.#byClient.size };
  }
}
