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
  await client.subscribeAsync('devices/+/telemetry', { qos: 1 });
  return client;
}

export function connectBackend(endpoint: MqttEndpoint, clientId: string): Promise<MqttClient> {
  return mqtt.connectAsync(endpoint.url, {
    clientId: `${clientId}-${process.pid}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    username: endpoint.username,
    password: endpoint.password,
  });
}
