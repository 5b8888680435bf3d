/** The few MQTT 3.1.1 packets the load generator speaks, built and split by hand. */
import type { MqttEndpoint } from './task.js';

export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const SUBACK = 9;

/** Where the packet at `offset` starts its variable header and ends, or undefined if incomplete. */
export function nextPacket(buffer: Buffer, offset: number): { start: number; body: number; end: number } | undefined {
  let length = 0;
  let multiplier = 1;
  let i = offset + 1;
  for (;;) {
    if (i >= buffer.length) return undefined;
    const byte = buffer[i++]!;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
    multiplier *= 128;
  }
  const end = i + length;
  return end <= buffer.length ? { start: offset, body: i, end } : undefined;
}

export function packet(firstByte: number, body: Buffer): Buffer {
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([firstByte, ...length]), body]);
}

export function utf8(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function connectPacket(clientId: string, endpoint: MqttEndpoint, clean = true): Buffer {
  // Clean session unless asked, keep-alive 0 (no PINGREQ needed during a run), optional user and password.
  const flags = (clean ? 0x02 : 0) | (endpoint.username !== undefined ? 0x80 : 0) | (endpoint.password !== undefined ? 0x40 : 0);
  const parts = [utf8('MQTT'), Buffer.from([4, flags, 0, 0]), utf8(clientId)];
  if (endpoint.username !== undefined) parts.push(utf8(endpoint.username));
  if (endpoint.password !== undefined) parts.push(utf8(endpoint.password));
  return packet(0x10, Buffer.concat(parts));
}

export function subscribePacket(filter: string): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([0, 1]), utf8(filter), Buffer.from([1])]));
}

export function publishPacket(topic: string, packetId: number, payload: string): Buffer {
  const id = Buffer.from([packetId >> 8, packetId & 0xff]);
  return packet(0x32, Buffer.concat([utf8(topic), id, Buffer.from(payload)])); // QoS 1
}
