import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Arrivals } from './arrivals.js';
import type { TestGateway } from './gateway.js';

export interface Received {
  topic: string;
  payload: Record<string, unknown>;
  retain: boolean;
}

/** A real mqtt.js client whose messages a test awaits in arrival order. */
export class TestBackend {
  readonly #messages = new Arrivals<Received>('MQTT message');

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.#messages.push({ topic, payload: JSON.parse(payload.toString()) as Record<string, unknown>, retain: packet.retain });
    });
  }

  nextMessage(timeoutMs = 5000): Promise<Received> {
    return this.#messages.next(timeoutMs);
  }

  /** Subscribes and resolves with the granted QoS (128 = refused). */
  async subscribe(filter: string): Promise<number> {
    try {
      const granted = await this.client.subscribeAsync(filter, { qos: 1 });
      return granted[0]!.qos;
    } catch (err) {
      // mqtt.js rejects a SUBACK whose only grant is a failure.
      const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
      if (granted?.[0] === 128) return 128;
      throw err;
    }
  }

  publish(topic: string, payload: unknown): Promise<unknown> {
    return this.client.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}

/**
 * Connects with its message listener already in place: a resumed session's queued messages
 * can come in the same read as the CONNACK, and mqtt.js emits them before the code after an
 * awaited connectAsync could listen, so they would be missed by the test, not by the gateway.
 */
export async function connectTestBackend(url: string, options: IClientOptions): Promise<TestBackend> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, ...options });
  const backend = new TestBackend(client);
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  } catch (err) {
    client.end(true);
    throw err;
  }
  return backend;
}

/** Adds an MQTT user with the given ACL and connects as it. */
export async function connectBackend(
  gw: TestGateway,
  acl: { pub?: string[]; sub?: string[] } = { sub: ['#'] },
  name = `backend-${Math.random().toString(36).slice(2, 8)}`,
): Promise<TestBackend> {
  const password = `pw-${name}`;
  const added = await gw.users.add(name, password, acl.pub ?? [], acl.sub ?? []);
  if (!added.ok) throw new Error(`users.add: ${added.error.code}`);
  return connectTestBackend(gw.addresses.mqtt, { username: name, password });
}

/** Connects and subscribes in one step. */
export async function subscribedBackend(gw: TestGateway, ...filters: string[]): Promise<TestBackend> {
  const backend = await connectBackend(gw, { sub: filters });
  for (const filter of filters) await backend.subscribe(filter);
  return backend;
}
