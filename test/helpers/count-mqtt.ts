import mqtt, { type MqttClient } from 'mqtt';

/** What a backend saw on MQTT: distinct telemetry by `${device}/${id}`, dead letters, presence. */
export interface MqttCounts {
  telemetry: Set<string>;
  deadLetters: { device: string; code: string }[];
  /** Devices whose latest presence message says online. */
  online: Set<string>;
  client: MqttClient;
}

/** Subscribes (QoS 1) to all telemetry, presence and dead letters, and counts them. */
export async function countMqtt(url: string, username: string, password: string, counts?: MqttCounts): Promise<MqttCounts> {
  const client = await mqtt.connectAsync(url, { username, password, reconnectPeriod: 0 });
  const into: MqttCounts = counts ?? { telemetry: new Set(), deadLetters: [], online: new Set(), client };
  into.client = client;
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/presence')) {
      const device = topic.split('/')[1]!;
      if ((JSON.parse(payload.toString()) as { online: boolean }).online) into.online.add(device);
      else into.online.delete(device);
      return;
    }
    const body = JSON.parse(payload.toString()) as { device: string; id?: string; code?: string };
    if (topic.startsWith('gateway/deadletter/')) into.deadLetters.push({ device: body.device, code: body.code! });
    else if (topic.endsWith('/telemetry')) into.telemetry.add(`${body.device}/${body.id}`);
  });
  await client.subscribeAsync({
    'devices/+/telemetry': { qos: 1 },
    'devices/+/presence': { qos: 1 },
    'gateway/deadletter/+': { qos: 1 },
  });
  return into;
}
