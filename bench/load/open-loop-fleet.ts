import { connectAll, sleep } from './connect-all.js';
import type { DeviceEvents } from './device-client.js';
import { drain } from './drain.js';
import { Ledger } from './ledger.js';
import { runOpenLoop, type OpenLoopPlan } from './open-loop.js';
import { Samples } from './percentiles.js';
import { cpuUsPerMessage, rssSlopeMiBPerSec, sampleServer, type TimedSample } from './server-sample.js';
import { bytesQueuedTowards } from './socket-queues.js';
import { subscribeTelemetry } from './subscriber.js';
import type { DrainOutcome, OpenLoopStep, Target } from './task.js';

const SAMPLE_EVERY_MS = 500;

export interface PhasePlan extends OpenLoopPlan {
  drainMs: number;
  /**
   * Deliveries and acks this long after the last send still count in the window (and so
   * does the server's CPU meanwhile): otherwise the messages in flight when it closes
   * would read as a shortfall of the rate, ~2 % of a 2 s step at 30 ms latency.
   */
  graceMs: number;
}

/** One open-loop phase: its own messages, and what the server did in its window (after the warm-up, until the last send). */
export interface Phase {
  rate: number;
  ledger: Ledger;
  sendLag: Samples;
  window: {
    /** From the first send after the warm-up to the last send. */
    ms: number;
    /** Deliveries and acks from the window's start until graceMs after its last send. */
    delivered: number;
    acked: number;
    /** Server samples every 500 ms, the first and last at the window's edges. */
    samples: TimedSample[];
    rssSlopeMiBPerSec: number;
    serverCpuUsPerMessage: number;
    /** Bytes the devices had sent that the server had not read when it closed (client buffers, both sides' TCP queues). */
    unreadBytes: number;
  };
  /** Server samples while it drained. */
  drainSamples: TimedSample[];
  drain: DrainOutcome;
}

export interface OpenLoopFleet {
  run(plan: PhasePlan): Promise<Phase>;
  close(): Promise<void>;
}

/**
 * The devices and the subscriber of an open-loop scenario (see open-loop.ts), connected
 * once and driven in phases, round-robin over the devices: fixed rate runs one, capacity
 * one per step. Each phase has a fresh ledger, so its figures are its own messages' (the
 * phase before has drained). Systems without a broker count the ack as the delivery.
 */
export async function openLoopFleet(target: Target, devices: number): Promise<OpenLoopFleet> {
  let ledger = new Ledger(devices);
  const hasBroker = target.subscriber !== undefined;
  const hasAcks = target.driver !== 'ws-fire';
  const devicePort = Number(new URL(target.deviceUrl).port);
  const events: DeviceEvents = {
    onAck(device, seq) {
      ledger.recordAck(device, seq);
      if (!hasBroker) ledger.recordDelivered(device, seq, performance.now());
    },
    onRefused: (device, seq, code) => ledger.recordRefused(device, seq, code),
  };
  const subscriber = hasBroker ? await subscribeTelemetry(target.subscriber!, target.devices.map((device) => device.id), (d, s, at) => ledger.recordDelivered(d, s, at)) : undefined;
  const { clients, failures } = await connectAll(target, 0, devices, events);
  const close = async (): Promise<void> => {
    for (const client of clients) client.close();
    await subscriber?.close();
  };
  if (clients.length < devices) {
    await close();
    throw new Error(`only ${clients.length}/${devices} devices connected: ${JSON.stringify(failures)}`);
  }
  await sleep(200);
  const seqs = new Int32Array(devices);

  async function run(plan: PhasePlan): Promise<Phase> {
    const phase = (ledger = new Ledger(devices));
    const sendLag = new Samples();
    let windowFrom = Infinity;
    let opened: { at: number; delivered: number; acked: number; sampler: ReturnType<typeof sampleServer> } | undefined;
    await runOpenLoop(
      plan,
      (i, dueAt) => {
        // The window opens with the first message due after the warm-up.
        if (!opened && dueAt >= windowFrom) opened = { at: performance.now(), delivered: phase.delivered, acked: phase.acked, sampler: sampleServer(SAMPLE_EVERY_MS) };
        const client = clients[i % clients.length]!;
        const now = performance.now();
        sendLag.add(now - dueAt);
        const seq = ++seqs[client.index]!;
        phase.recordSent(client.index, seq, now, dueAt);
        client.send(seq);
      },
      (start) => (phase.measureFrom = windowFrom = start + plan.warmupMs),
    );
    if (!opened) throw new Error(`open loop at ${plan.rate} msg/s for ${plan.durationMs} ms sent nothing after its warm-up`);
    const lastSend = performance.now();
    if (plan.graceMs > 0) await sleep(plan.graceMs);
    const closed = { delivered: phase.delivered, acked: phase.acked, unread: clients.reduce((sum, client) => sum + client.buffered, 0) + bytesQueuedTowards(devicePort) };
    const samples = await opened.sampler.stop();
    const draining = sampleServer(SAMPLE_EVERY_MS);
    const outcome = await drain(() => phase.undelivered === 0 && (!hasAcks || phase.unacked === 0), () => phase.delivered + phase.acked, plan.drainMs);
    const delivered = closed.delivered - opened.delivered;
    return {
      rate: plan.rate,
      ledger: phase,
      sendLag,
      window: {
        ms: lastSend - opened.at,
        delivered,
        acked: closed.acked - opened.acked,
        samples,
        rssSlopeMiBPerSec: rssSlopeMiBPerSec(samples),
        serverCpuUsPerMessage: cpuUsPerMessage(samples[0]!, samples.at(-1)!, delivered),
        unreadBytes: closed.unread,
      },
      drainSamples: await draining.stop(),
      drain: outcome,
    };
  }

  return { run, close };
}

/** Messages per second over `ms`. */
export const perSec = (count: number, ms: number): number => (ms > 0 ? Math.round((count * 1000) / ms) : NaN);

/** A phase as one step of a stepped scenario (capacity, and the warm-ups). */
export function stepOf(phase: Phase, generatorLagMs: number): OpenLoopStep {
  const { ledger, window } = phase;
  const sendLagMs = phase.sendLag.percentiles();
  return {
    rate: phase.rate,
    sent: ledger.sent,
    delivered: ledger.delivered,
    deliveredPerSec: perSec(window.delivered, window.ms),
    lost: ledger.lost,
    refused: ledger.refused,
    scheduledLatencyMs: ledger.scheduledLatency.percentiles(),
    latencyMs: ledger.latency.percentiles(),
    ackLatencyMs: ledger.ackLatency.percentiles(),
    sendLagMs,
    rssSlopeMiBPerSec: window.rssSlopeMiBPerSec,
    rssEndKiB: window.samples.at(-1)!.rssKiB,
    serverCpuUsPerMessage: window.serverCpuUsPerMessage,
    generatorLimited: sendLagMs.p99 > generatorLagMs,
  };
}
