import { Readable } from 'node:stream';
import type { BrokerStatements } from './broker-statements.js';
import type { GroupCommit } from './group-commit.js';
import { packetOf, packetRow, type BrokerPacket, type PacketRow } from './stored-packet.js';

/** Clients' wills, per client id: served from memory, written through the turn's commit. */
export class StoredWills {
  readonly #byClient = new Map<string, BrokerPacket>();

  constructor(
    private readonly group: GroupCommit,
    private readonly sql: BrokerStatements,
  ) {}

  load(rows: ReadonlyMap<string, PacketRow>): void {
    for (const [clientId, row] of rows) this.#byClient.set(clientId, packetOf(row));
  }

  put(clientId: string, brokerId: string, packet: BrokerPacket): Promise<void> {
    packet.brokerId = brokerId;
    packet.clientId = clientId;
    this.#byClient.set(clientId, packet);
    const row = packetRow(packet, true);
    return this.group.add(() => this.sql.putWill.run(clientId, row.meta, row.payload));
  }

  get(clientId: string): BrokerPacket | undefined {
    return this.#byClient.get(clientId);
  }

  async delete(clientId: string): Promise<BrokerPacket | undefined> {
    const will = this.#byClient.get(clientId);
    if (!will) return undefined;
    this.#byClient.delete(clientId);
    await this.group.add(() => this.sql.deleteWill.run(clientId));
    return will;
  }

  /** Wills of clients whose broker is not alive; after a restart that is every stored will. */
  orphaned(brokers: Record<string, unknown>): Readable {
    return Readable.from([...this.#byClient.values()].filter((will) => !brokers[will.brokerId!]));
  }
}
