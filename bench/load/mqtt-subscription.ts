import { connect } from 'node:net';
import { CONNACK, connectPacket, nextPacket, PUBACK, PUBLISH, SUBACK, subscribePacket } from './mqtt-packets.js';
import type { MqttEndpoint } from './task.js';

/**
 * One MQTT 3.1.1 session on devices/+/telemetry at QoS 1, reporting each reading it receives.
 *
 * A deliberately minimal client instead of mqtt.js: mqtt.js writes every PUBACK as its
 * own syscall and parses a burst of publishes in one synchronous run, which stalled the
 * load generator's send timer for 100-400 ms and put the generator's own delays into
 * every system's latency. This one answers a whole TCP chunk of publishes with one write.
 */
export interface TelemetrySubscription {
  close(): Promise<void>;
}

export function openTelemetrySubscription(
  endpoint: MqttEndpoint,
  clientId: string,
  onReading: (device: string, id: string, at: number) => void,
  onChunkDone?: () => void,
  persistent = false,
): Promise<TelemetrySubscription> {
  const { hostname, port } = new URL(endpoint.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port || 1883), noDelay: true });
    let pending: Buffer = Buffer.alloc(0);
    let subscribed = false;
    socket.once('error', reject);
    socket.on('connect', () => socket.write(connectPacket(clientId, endpoint, !persistent)));
    socket.on('close', () => {
      if (!subscribed) reject(new Error('subscriber: connection closed before SUBACK'));
    });
    socket.on('data', (chunk: Buffer) => {
      // Absolute time: this runs in a worker thread, whose performance.now() has its own origin.
      const at = performance.timeOrigin + performance.now();
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
          resolve({
            close: async () => {
              socket.destroy();
              if (persistent) await endSession(endpoint, clientId);
            },
          });
        } else if (type === PUBLISH) {
          const qos = (pending[packet.start]! >> 1) & 3;
          const topicLength = pending.readUInt16BE(packet.body);
          let payloadStart = packet.body + 2 + topicLength;
          if (qos > 0) {
            acks.push(Buffer.from([PUBACK << 4, 2, pending[payloadStart]!, pending[payloadStart + 1]!]));
            payloadStart += 2;
          }
          const reading = JSON.parse(pending.toString('utf8', payloadStart, packet.end)) as { device: string; id: string };
          onReading(reading.device, reading.id, at);
        }
      }
      pending = pending.subarray(offset);
      if (acks.length > 0) socket.write(Buffer.concat(acks));
      onChunkDone?.();
    });
  });
}

/**
 * A clean-session CONNECT with the same client id ends a persistent session and drops
 * what the broker still holds for it [MQTT-3.1.2-6]: the scenarios after
 * saturation-durable run on the same data dir and must not feed a forgotten queue.
 */
function endSession(endpoint: MqttEndpoint, clientId: string): Promise<void> {
  const { hostname, port } = new URL(endpoint.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port || 1883), noDelay: true });
    socket.once('error', reject);
    socket.on('connect', () => socket.write(connectPacket(clientId, endpoint, true)));
    socket.once('data', () => socket.end(Buffer.from([0xe0, 0]), () => resolve())); // CONNACK -> DISCONNECT
  });
}
