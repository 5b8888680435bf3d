import type { Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttEndpoint } from './task.js';

/**
 * The backend side of saturation and fixed rate: one MQTT session on devices/+/telemetry
 * at QoS 1 (in its own thread, see subscriber-worker.ts), reporting each reading it receives.
 */
export interface TelemetrySubscriber {
  /** Resolves once the subscriber has gone (and, for a persistent session, ended that session). */
  close(): Promise<void>;
}

export function subscribeTelemetry(
  endpoint: MqttEndpoint,
  devices: readonly string[],
  onDelivered: (device: number, seq: number, at: number) => void,
  persistent = false,
): Promise<TelemetrySubscriber> {
  const worker = new Worker(new URL('./subscriber-worker.js', import.meta.url), { workerData: { endpoint, devices, persistent } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: Float64Array | 'ready') => {
      if (message === 'ready') {
        return resolve({
          close: () => {
            worker.postMessage('close');
            return exited;
          },
        });
      }
      // The worker stamps absolute time; the ledger counts from this thread's origin.
      for (let i = 0; i < message.length; i += 3) onDelivered(message[i]!, message[i + 1]!, message[i + 2]! - performance.timeOrigin);
    });
  });
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
