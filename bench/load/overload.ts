import { sleep } from './connect-all.js';
import { openLoopFleet, perSec, stepOf } from './open-loop-fleet.js';
import type { OverloadResult, Task } from './task.js';

type OverloadTask = Extract<Task, { scenario: 'overload' }>;

/**
 * Open loop at `factor` x the capacity this run measured. A system that pushes back acks
 * slower than it is offered and leaves the rest unread on its way (`deviceBacklogKiB`;
 * `unacked` at the end, not lost); one that acks everything must queue it, and its RSS
 * grows. The signals are reported raw, and `pushedBack` reads the acks. A warm-up at the
 * capacity comes first (reported apart),
 * so the fresh server's JIT and heap growth are not part of the overload's figures.
 */
export async function runOverload(task: OverloadTask): Promise<OverloadResult> {
  const fleet = await openLoopFleet(task.target, task.devices);
  try {
    const warmup = stepOf(await fleet.run({ rate: task.capacity, warmupMs: 0, durationMs: task.warmupMs, drainMs: task.drainMs, graceMs: task.graceMs }), task.generatorLagMs);
    await sleep(task.settleMs);
    const rate = task.factor * task.capacity;
    const phase = await fleet.run({ rate, warmupMs: 0, durationMs: task.durationMs, drainMs: task.drainMs, graceMs: task.graceMs });
    const { ledger, window } = phase;
    const ackedPerSec = perSec(window.acked, window.ms);
    // Of what was sent, the share acked by the end of the sending: unlike acked/s against the
    // nominal rate, it does not read a load generator that fell behind as pushback.
    const ackedShare = Math.round((window.acked / ledger.sent) * 100) / 100;
    const sendLagMs = phase.sendLag.percentiles();
    return {
      capacity: task.capacity,
      rate,
      sent: ledger.sent,
      acked: ledger.acked,
      delivered: ledger.delivered,
      ackedPerSec,
      deliveredPerSec: perSec(window.delivered, window.ms),
      lost: ledger.lost,
      unacked: ledger.unacked,
      refused: ledger.refused,
      peakRssKiB: Math.max(...[...window.samples, ...phase.drainSamples].map((sample) => sample.rssKiB)),
      rssSlopeMiBPerSec: window.rssSlopeMiBPerSec,
      ackLatencyMs: ledger.ackLatency.percentiles(),
      sendLagMs,
      generatorLimited: sendLagMs.p99 > task.generatorLagMs,
      ackedShare,
      deviceBacklogKiB: Math.round(window.unreadBytes / 1024),
      pushedBack: ackedShare < task.pushbackShare,
      drain: phase.drain,
      warmup,
    };
  } finally {
    await fleet.close();
  }
}
