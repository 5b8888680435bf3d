import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { BrokerStatements } from './broker-statements.js';
import type { GroupCommit } from './group-commit.js';
import { packetOf, packetRow, type BrokerPacket, type PacketRow } from './stored-packet.js';

const require = createRequire(import.meta.url);
const { QlobberTrue } = require('qlobber') as { QlobberTrue: new (options: object) => { add(topic: string): void; test(topic: string): boolean } };
const TOPIC_RULES = { wildcard_one: '+', wildcard_some: '#', separator: '/' };

/** aedes' retained messages: served from memory, written through the turn's commit. */
export class RetainedMessages {
  readonly #byTopic = new Map<string, BrokerPacket>();

  constructor(
    private readonly group: GroupCommit,
    private readonly sql: BrokerStatements,
  ) {}

  load(rows: ReadonlyMap<string, PacketRow>): void {
    for (const [topic, row] of rows) this.#byTopic.set(topic, packetOf(row));
  }

  /**
   * Not awaited: aedes calls outgoingEnqueueCombi next for every QoS > 0 publish, and
   * that waits for this turn's commit (a QoS 0 retained publish is not acked to anyone).
   */
  store(original: BrokerPacket): void {
    const packet = { ...original };
    const topic = packet.topic!;
    if (!packet.payload || packet.payload.length === 0) {
      this.#byTopic.delete(topic);
      void this.group.add(() => this.sql.deleteRetained.run(topic));
      return;
    }
    this.#byTopic.set(topic, packet);
    const row = packetRow(packet);
    void this.group.add(() => this.sql.putRetained.run(topic, row.meta, row.payload));
  }

  matching(patterns: string[]): Readable {
    const matched: BrokerPacket[] = [];
    for (const pattern of patterns) {
      const matcher = new QlobberTrue(TOPIC_RULES);
      matcher.add(pattern);
      for (const [topic, packet] of this.#byTopic) if (matcher.test(topic)) matched.push(packet);
    }
    return Readable.from(matched);
  }
}
