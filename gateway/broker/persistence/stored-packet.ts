/**
 * An aedes packet as the persistence holds it: the header fields aedes and
 * aedes-packet set (cmd, topic, qos, retain, dup, brokerId, brokerCounter, and
 * MQTT 5 properties) plus a payload that is a Buffer or, from some callers, a string.
 */
export interface BrokerPacket {
  cmd: string;
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  messageId?: number;
  brokerId?: string;
  brokerCounter?: number;
  clientId?: string;
  [field: string]: unknown;
}

export interface PacketRow {
  meta: string;
  payload: Buffer | string | null;
}

// Not stored: the payload has its own column; a messageId is only meaningful on the
// connection that assigned it (after a restart aedes assigns fresh ones); writeCallback
// is aedes' per-write function on a QoSPacket.
const NOT_IN_META = new Set(['payload', 'messageId', 'writeCallback']);

export function packetRow(packet: BrokerPacket, keepMessageId = false): PacketRow {
  const meta: Record<string, unknown> = {};
  for (const key of Object.keys(packet)) {
    if (NOT_IN_META.has(key) && !(keepMessageId && key === 'messageId')) continue;
    const value = packet[key];
    if (value !== undefined && typeof value !== 'function') meta[key] = value;
  }
  return { meta: JSON.stringify(meta), payload: packet.payload ?? null };
}

export function packetOf(row: PacketRow): BrokerPacket {
  // JSON turns Buffers (MQTT 5 correlationData, for one) into {type:'Buffer',data:[...]}.
  const packet = JSON.parse(row.meta, (_key, value: unknown) =>
    isBufferJson(value) ? Buffer.from(value.data) : value,
  ) as BrokerPacket;
  if (row.payload !== null) packet.payload = row.payload;
  return packet;
}

function isBufferJson(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data);
}
