import { connectAll, sleep } from './connect-all.js';
import type { DeviceClient, DeviceEvents } from './device-client.js';
import { Ledger } from './ledger.js';
import { telemetryFrame, messageId, publishedReading } from './reading.js';
import { subscribeTelemetry } from './subscriber.js';
import type { SaturationResult, Task } from './task.js';
import { drain } from './drain.js';
import { askServerSample, cpuUsPerMessage } from './server-sample.js';

type SaturationTask = Extract<Task, { scenario: 'saturation' }>;

// Drivers without acks (Node-RED) keep this much queued in each socket instead of a message window.
const FIRE_BUFFER_BYTES = 64 * 1024;

/** Closed loop: each device keeps `window` messages unacked; the next goes out when one is acked or refused. */
export async function runSaturation(task: SaturationTask): Promise<SaturationResult> {
  const { target } = task;
  const ledger = new Ledger(task.devices);
  const hasBroker = target.subscriber !== undefined;
  const seqs = new Int32Array(task.devices);
  let sending = false;
  let inFlight = 0;
  const clients: DeviceClient[] = [];

  function sendNext(device: number): void {
    if (!sending) return;
    const seq = ++seqs[device]!;
    ledger.recordSent(device, seq, performance.now());
    inFlight++;
    clients[device]!.send(seq);
  }
  const events: DeviceEvents = {
    onAck(device, seq) {
      inFlight--;
      ledger.recordAck(device, seq);
      if (!hasBroker) ledger.recordDelivered(device, seq, performance.now());
      sendNext(device);
    },
    onRefused(device, seq, code) {
      inFlight--;
      ledger.recordRefused(device, seq, code);
      sendNext(device);
    },
  };

  const subscriber = hasBroker
    ? await subscribeTelemetry(target.subscriber!, target.devices.map((device) => device.id), (d, s, at) => ledger.recordDelivered(d, s, at), task.persistentSubscriber)
    : undefined;
  const connected = await connectAll(target, 0, task.devices, events);
  if (connected.clients.length < task.devices) throw new Error(`only ${connected.clients.length}/${task.devices} devices connected: ${JSON.stringify(connected.failures)}`);
  clients.push(...connected.clients);

  // The first fifth (at most 1 s) warms up connections and JIT and is left out of the rate.
  const warmupMs = Math.min(1000, task.durationMs / 5);
  sending = true;
  if (target.driver === 'ws-fire') pumpWithoutAcks(clients, ledger, seqs, () => sending);
  else for (let device = 0; device < task.devices; device++) for (let i = 0; i < task.window; i++) sendNext(device);
  await sleep(warmupMs);
  const from = { at: performance.now(), delivered: ledger.delivered, acked: ledger.acked, server: await askServerSample() };
  await sleep(task.durationMs - warmupMs);
  const to = { at: performance.now(), delivered: ledger.delivered, acked: ledger.acked, server: await askServerSample() };
  sending = false;

  await drain(() => (target.driver === 'ws-fire' || inFlight <= 0) && (!hasBroker || ledger.undelivered === 0), () => ledger.delivered + ledger.acked, task.drainMs);
  for (const client of clients) client.close();
  await subscriber?.close();

  const measuredMs = to.at - from.at;
  const frameBytes = Buffer.byteLength(target.driver === 'gateway' ? telemetryFrame(messageId(1), Date.now(), 1) : publishedReading(target.devices[0]!.id, messageId(1), Date.now(), 1));
  const lost = ledger.lost;
  return {
    sent: ledger.sent,
    acked: ledger.acked,
    delivered: ledger.delivered,
    lost,
    unaccounted: ledger.undelivered - lost,
    refused: ledger.refused,
    deliveredPerSec: Math.round(((to.delivered - from.delivered) * 1000) / measuredMs),
    ackedPerSec: Math.round(((to.acked - from.acked) * 1000) / measuredMs),
    measuredMs: Math.round(measuredMs),
    // Over the same window as the rate: start-up, connects, warm-up and drain left out.
    serverCpuUsPerMessage: cpuUsPerMessage(from.server, to.server, to.delivered - from.delivered),
    frameBytes,
    latencyMs: ledger.latency.percentiles(),
    ackLatencyMs: ledger.ackLatency.percentiles(),
  };
}

function pumpWithoutAcks(clients: DeviceClient[], ledger: Ledger, seqs: Int32Array, sending: () => boolean): void {
  const tick = (): void => {
    if (!sending()) return;
    for (const client of clients) {
      for (let i = 0; i < 16 && client.buffered < FIRE_BUFFER_BYTES; i++) {
        const seq = ++seqs[client.index]!;
        ledger.recordSent(client.index, seq, performance.now());
        client.send(seq);
      }
    }
    setImmediate(tick);
  };
  tick();
}
