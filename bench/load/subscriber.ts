import { connect, type Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { seqOf } from './device-client.js';
import type { MqttEndpoint } from './task.js';

/**
 * The backend side of saturation and fixed rate: one MQTT 3.1.1 session on
 * devices/+/telemetry at QoS 1, reporting each reading it receives.
 *
 * A deliberately minimal client instead of mqtt.js: mqtt.js writes every PUBACK as its
 * own syscall and parses a burst of publishes in one synchronous run, which stalled the
 * load generator's send timer for 100-400 ms and put the generator's own delays into
 * every system's latency. This one answers a whole TCP chunk of publishes with one write.
 */
export interface TelemetrySubscriber {
  close(): void;
}

export function subscribeTelemetry(
  endpoint: MqttEndpoint,
  deviceIndex: ReadonlyMap<string, number>,
  onDelivered: (device: number, seq: number, at: number) => void,
): Promise<TelemetrySubscriber> {
  const { hostname, port } = new URL(endpoint.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port || 1883), noDelay: true });
    let pending: Buffer = Buffer.alloc(0);
    let subscribed = false;
    socket.once('error', reject);
    socket.on('connect', () => socket.write(connectPacket(`bench-subscriber-${process.pid}`, endpoint)));
    socket.on('close', () => {
      if (!subscribed) reject(new Error('subscriber: connection closed before SUBACK'));
    });
    socket.on('data', (chunk: Buffer) => {
      const at = performance.now();
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const acks: Buffer[] = [];
      let offset = 0;
      for (;;) {
        const packet = nextPacket(pending, offset);
        if (!packet) break;
        offset = packet.end;
        const type = pending[packet.start]! >> 4;
        if (type === CONNACK) {
          if (pending[packet.body + 1] !== 0) return reject(new Error(`subscriber: CONNACK return code ${pending[packet.body + 1]}`));
          socket.write(subscribePacket('devices/+/telemetry'));
        } else if (type === SUBACK) {
          if (pending[packet.body + 2] === 0x80) return reject(new Error('subscriber: SUBSCRIBE refused'));
          subscribed = true;
          resolve({ close: () => socket.destroy() });
        } else if (type === PUBLISH) {
          const qos = (pending[packet.start]! >> 1) & 3;
          const topicLength = pending.readUInt16BE(packet.body);
          let payloadStart = packet.body + 2 + topicLength;
          if (qos > 0) {
            acks.push(Buffer.from([PUBACK << 4, 2, pending[payloadStart]!, pending[payloadStart + 1]!]));
            payloadStart += 2;
          }
          const reading = JSON.parse(pending.toString('utf8', payloadStart, packet.end)) as { device: string; id: string };
          const device = deviceIndex.get(reading.device);
          if (device !== undefined) onDelivered(device, seqOf(reading.id), at);
        }
      }
      pending = pending.subarray(offset);
      if (acks.length > 0) socket.write(Buffer.concat(acks));
    });
  });
}

const CONNACK = 2;
const PUBLISH = 3;
const PUBACK = 4;
const SUBACK = 9;

/** Where the packet at `offset` starts its variable header and ends, or undefined if incomplete. */
function nextPacket(buffer: Buffer, offset: number): { start: number; body: number; end: number } | undefined {
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

function packet(firstByte: number, body: Buffer): Buffer {
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

function utf8(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function connectPacket(clientId: string, endpoint: MqttEndpoint): Buffer {
  // Clean session, keep-alive 0 (no PINGREQ needed during a run), optional user and password.
  const flags = 0x02 | (endpoint.username !== undefined ? 0x80 : 0) | (endpoint.password !== undefined ? 0x40 : 0);
  const parts = [utf8('MQTT'), Buffer.from([4, flags, 0, 0]), utf8(clientId)];
  if (endpoint.username !== undefined) parts.push(utf8(endpoint.username));
  if (endpoint.password !== undefined) parts.push(utf8(endpoint.password));
  return packet(0x10, Buffer.concat(parts));
}

function subscribePacket(filter: string): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([0, 1]), utf8(filter), Buffer.from([1])]));
}

/** A backend MQTT session that publishes (the commands scenario); mqtt.js is fine at 500/s. */
export async function connectBackend(endpoint: MqttEndpoint, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(endpoint.url, {
    clientId: `${clientId}-${process.pid}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    username: endpoint.username,
    password: endpoint.password,
  });
  // mqtt.js leaves Nagle on; PUBACKs and status events would wait for delayed ACKs (~40 ms).
  (client.stream as Partial<Socket>).setNoDelay?.(true);
  return client;
}
