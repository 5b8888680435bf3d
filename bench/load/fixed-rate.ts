import { openLoopFleet } from './open-loop-fleet.js';
import { warmupFor } from './open-loop.js';
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
 * (`warmupLatencyMs`), and its messages still count as sent, delivered and lost. The
 * server's CPU per message is taken over the window after it, so start-up, connects and
 * the cold start do not count.
 */
export async function runFixedRate(task: FixedRateTask): Promise<FixedRateResult> {
  const fleet = await openLoopFleet(task.target, task.devices);
  try {
    const { ledger, sendLag, window } = await fleet.run({ rate: task.rate, warmupMs: warmupFor(task.durationMs), durationMs: task.durationMs, drainMs: task.drainMs, graceMs: 0 });
    return {
      rate: task.rate,
      sent: ledger.sent,
      delivered: ledger.delivered,
      lost: ledger.lost,
      refused: ledger.refused,
      latencyMs: ledger.latency.percentiles(),
      scheduledLatencyMs: ledger.scheduledLatency.percentiles(),
      ackLatencyMs: ledger.ackLatency.percentiles(),
      warmupLatencyMs: ledger.warmupLatency.percentiles(),
      warmupAckLatencyMs: ledger.warmupAckLatency.percentiles(),
      sendLagMs: sendLag.percentiles(),
      serverCpuUsPerMessage: window.serverCpuUsPerMessage,
    };
  } finally {
    await fleet.close();
  }
}
