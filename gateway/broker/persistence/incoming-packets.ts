import { createRequire } from 'node:module';
import type { BrokerStatements } from './broker-statements.js';
import type { GroupCommit } from './group-commit.js';
import { packetOf, packetRow, type BrokerPacket, type PacketRow } from './stored-packet.js';

const require = createRequire(import.meta.url);
const Packet = require('aedes-packet') as new (original: BrokerPacket) => BrokerPacket;

/** Inbound QoS 2 publishes between PUBREC and PUBREL, per client and message id. */
export class IncomingPackets {
  readonly #byClient = new Map<string, Map<number, BrokerPacket>>();

  constructor(
    private readonly group: GroupCommit,
    private readonly sql: BrokerStatements,
  ) {}

  load(rows: ReadonlyArray<{ clientId: string; messageId: number; row: PacketRow }>): void {
    for (const { clientId, messageId, row } of rows) this.#of(clientId).set(messageId, packetOf(row));
  }

  has(clientId: string): boolean {
    return this.#byClient.has(clientId);
  }

  store(clientId: string, original: BrokerPacket): Promise<void> {
    const packet = new Packet(original);
    packet.messageId = original.messageId;
    this.#of(clientId).set(packet.messageId!, packet);
    const row = packetRow(packet, true);
    return this.group.add(() => this.sql.putIncoming.run(clientId, packet.messageId, row.meta, row.payload));
  }

  get(clientId: string, messageId: number): BrokerPacket | undefined {
    return this.#byClient.get(clientId)?.get(messageId);
  }

  delete(clientId: string, messageId: number): Promise<void> {
    if (!this.#byClient.get(clientId)?.delete(messageId)) return Promise.reject(new Error('no such packet'));
    return this.group.add(() => this.sql.deleteIncoming.run(clientId, messageId));
  }

  /** A clean session: its packets go, in memory and on disk. */
  clean(clientId: string): Promise<void> {
    if (!this.#byClient.delete(clientId)) return Promise.resolve();
    return this.group.add(() => this.sql.deleteIncomingOf.run(clientId));
  }

  /** Forgets a client in memory only (its rows go with the session's, in the same write). */
  forget(clientId: string): void {
    this.#byClient.delete(clientId);
  }

  #of(clientId: string): Map<number, BrokerPacket> {
    let packets = this.#byClient.get(clientId);
    if (!packets) this.#byClient.set(clientId, (packets = new Map()));
    return packets;
  }
}
