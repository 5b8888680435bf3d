import { connectAll, sleep } from './connect-all.js';
import type { DeviceClient, DeviceEvents } from './device-client.js';
import { drain } from './drain.js';
import { Ledger } from './ledger.js';
import { runOpenLoop, warmupFor } from './open-loop.js';
import { Samples } from './percentiles.js';
import { subscribeTelemetry } from './subscriber.js';
import type { FixedRateResult, Task } from './task.js';

type FixedRateTask = Extract<Task, { scenario: 'fixed-rate' }>;

/**
 * Open loop (see open-loop.ts), round-robin over the devices. Latency counts from the
 * device's send to the subscriber's receipt (what the target is set on); a second figure
 * counts from the due time, which adds the load generator's own send lag (on this
 * 2-core machine its p99 is 2-5 ms, more than the systems' own tails).
 *
 * Every server starts fresh for the scenario, so the first messages run through code V8
 * has not compiled yet: in a fresh Node server that first half second at 10k msg/s queued
 * 100-250 ms and was the whole p99 (bench/, docs/performance.md). A warm-up at the same
 * rate (a fifth of the run, at most 1 s) comes first; its latencies are reported apart
 * (`warmupLatencyMs`), and its messages still count as sent, delivered and lost.
 */
export async function runFixedRate(task: FixedRateTask): Promise<FixedRateResult> {
  const { target } = task;
  const ledger = new Ledger(task.devices);
  const hasBroker = target.subscriber !== undefined;
  const events: DeviceEvents = {
    onAck(device, seq) {
      ledger.recordAck(device, seq);
      if (!hasBroker) ledger.recordDelivered(device, seq, performance.now());
    },
    onRefused: (device, seq, code) => ledger.recordRefused(device, seq, code),
  };
  const subscriber = hasBroker ? await subscribeTelemetry(target.subscriber!, target.devices.map((device) => device.id), (d, s, at) => ledger.recordDelivered(d, s, at)) : undefined;
  const { clients, failures } = await connectAll(target, 0, task.devices, events);
  if (clients.length < task.devices) throw new Error(`only ${clients.length}/${task.devices} devices connected: ${JSON.stringify(failures)}`);
  await sleep(200);

  const seqs = new Int32Array(task.devices);
  const lag = new Samples();
  const warmupMs = warmupFor(task.durationMs);
  await runOpenLoop(
    { rate: task.rate, warmupMs, durationMs: task.durationMs },
    (i, dueAt) => send(clients[i % clients.length]!, dueAt),
    (start) => (ledger.measureFrom = start + warmupMs),
  );
  function send(client: DeviceClient, dueAt: number): void {
    const now = performance.now();
    lag.add(now - dueAt);
    const seq = ++seqs[client.index]!;
    ledger.recordSent(client.index, seq, now, dueAt);
    client.send(seq);
  }

  await drain(() => ledger.undelivered === 0, () => ledger.delivered, 5000);
  for (const client of clients) client.close();
  subscriber?.close();
  return { rate: task.rate, sent: ledger.sent, delivered: ledger.delivered, lost: ledger.lost, refused: ledger.refused, latencyMs: ledger.latency.percentiles(), scheduledLatencyMs: ledger.scheduledLatency.percentiles(), ackLatencyMs: ledger.ackLatency.percentiles(), warmupLatencyMs: ledger.warmupLatency.percentiles(), warmupAckLatencyMs: ledger.warmupAckLatency.percentiles(), sendLagMs: lag.percentiles() };
}
