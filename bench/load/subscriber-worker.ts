/**
 * The telemetry subscriber's own thread. It shares the load generator's core, but the
 * kernel wakes it as soon as publishes arrive, so its PUBACKs do not wait behind the
 * device traffic on the main thread. That matters for brokers that keep few QoS 1
 * messages in flight per subscriber (Mosquitto: 20), whose delivery rate is one window
 * per PUBACK round trip.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { seqOf } from './device-client.js';
import { openTelemetrySubscription } from './mqtt-subscription.js';
import type { MqttEndpoint } from './task.js';

const { endpoint, devices, persistent } = workerData as { endpoint: MqttEndpoint; devices: string[]; persistent: boolean };
const index = new Map(devices.map((id, i) => [id, i]));
let batch: number[] = [];

const subscription = await openTelemetrySubscription(
  endpoint,
  // One fixed id for the persistent session, as an archiver that reconnects would have.
  persistent ? 'bench-archiver' : `bench-subscriber-${process.pid}`,
  (device, id, at) => {
    const i = index.get(device);
    if (i !== undefined) batch.push(i, seqOf(id), at);
  },
  () => {
    if (batch.length === 0) return;
    const deliveries = Float64Array.from(batch);
    batch = [];
    parentPort!.postMessage(deliveries, [deliveries.buffer]);
  },
  persistent,
);
parentPort!.postMessage('ready');
parentPort!.once('message', async () => {
  await subscription.close();
  process.exit(0);
});
