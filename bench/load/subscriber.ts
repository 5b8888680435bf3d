import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { seqOf } from './device-client.js';
import type { MqttEndpoint } from './task.js';

/** The backend side: one MQTT client on devices/+/telemetry (QoS 1) reporting each reading it receives. */
export async function subscribeTelemetry(
  endpoint: MqttEndpoint,
  deviceIndex: ReadonlyMap<string, number>,
  onDelivered: (device: number, seq: number, at: number) => void,
): Promise<MqttClient> {
  const client = await connectBackend(endpoint, 'bench-subscriber');
  client.on('message', (_topic, payload) => {
    const at = performance.now();
    const reading = JSON.parse(payload.toString()) as { device: string; id: string };
    const device = deviceIndex.get(reading.device);
    if (device !== undefined) onDelivered(device, seqOf(reading.id), at);
  });
  client.on('close', () => process.stderr.write('subscriber: connection closed\n'));
  client.on('error', (err) => process.stderr.write(`subscriber: ${err.message}\n`));
  await client.subscribeAsync('devices/+/telemetry', { qos: 1 });
  return client;
}

export async function connectBackend(endpoint: MqttEndpoint, clientId: string): Promise<MqttClient> {
  const client = await mqtt.connectAsync(endpoint.url, {
    clientId: `${clientId}-${process.pid}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    username: endpoint.username,
    password: endpoint.password,
  });
  // mqtt.js leaves Nagle on: PUBACKs would wait for delayed ACKs (~40 ms) and, with
  // Mosquitto's 20 in-flight messages per client, throttle the subscriber, not the broker.
  (client.stream as Partial<Socket>).setNoDelay?.(true);
  return client;
}
