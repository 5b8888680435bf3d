import mqtt, { type MqttClient } from 'mqtt';

/** Distinct telemetry messages and dead letters seen on MQTT, by `${device}/${id}`. */
export interface MqttCounts {
  telemetry: Set<string>;
  deadLetters: { device: string; code: string }[];
  client: MqttClient;
}

/** Subscribes (QoS 1) to all telemetry and dead letters, and counts them. */
export async function countMqtt(url: string, username: string, password: string, counts?: MqttCounts): Promise<MqttCounts> {
  const client = await mqtt.connectAsync(url, { username, password, reconnectPeriod: 0 });
  const into: MqttCounts = counts ?? { telemetry: new Set(), deadLetters: [], client };
  into.client = client;
  client.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as { device: string; id?: string; code?: string };
    if (topic.startsWith('gateway/deadletter/')) into.deadLetters.push({ device: body.device, code: body.code! });
    else if (topic.endsWith('/telemetry')) into.telemetry.add(`${body.device}/${body.id}`);
  });
  await client.subscribeAsync({ 'devices/+/telemetry': { qos: 1 }, 'gateway/deadletter/+': { qos: 1 } });
  return into;
}
