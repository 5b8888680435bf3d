import { sleep } from './connect-all.js';
import { openLoopFleet, stepOf } from './open-loop-fleet.js';
import type { CapacityBound, CapacityResult, CapacityStep, OpenLoopStep, Task } from './task.js';

type CapacityTask = Extract<Task, { scenario: 'capacity' }>;

/**
 * Open loop (no coordinated omission) at stepped rates on one server start and one set of
 * device connections, until a step fails the bound: the highest rate the system sustains
 * within it is what a fleet is sized by. Before the first step, a warm-up at the first rate
 * (reported apart); after each step a drain and a short settle, so steps do not overlap.
 */
export async function runCapacity(task: CapacityTask): Promise<CapacityResult> {
  const rates: number[] = [];
  for (let rate = task.startRate; rate <= task.maxRate; rate += task.stepRate) rates.push(rate);
  // A message delivered within the latency bound of the step's end counts in its rate.
  const graceMs = task.pass.p99Ms;
  const fleet = await openLoopFleet(task.target, task.devices);
  try {
    const warmup = stepOf(await fleet.run({ rate: rates[0]!, warmupMs: 0, durationMs: task.warmupMs, drainMs: task.drainMs, graceMs }), task.generatorLagMs);
    const steps: CapacityStep[] = [];
    for (const rate of rates) {
      const discarded: CapacityStep['discarded'] = [];
      for (;;) {
        await sleep(task.settleMs);
        const step = stepOf(await fleet.run({ rate, warmupMs: 0, durationMs: task.stepMs, drainMs: task.drainMs, graceMs }), task.generatorLagMs);
        const failed = failures(step, task.pass);
        process.stderr.write(`  ${describe(step, failed)}\n`);
        // The bound is judged from the schedule, so a load generator that fell behind on its
        // own core (a noisy VM) fails the system with it: such a failure is measured again.
        if (failed.length > 0 && step.generatorLimited && discarded.length < task.generatorRetries) {
          discarded.push({ failed, sendLagP99Ms: step.sendLagMs.p99 });
          continue;
        }
        steps.push({ ...step, passed: failed.length === 0, failed, discarded });
        break;
      }
      if (!steps.at(-1)!.passed) break;
    }
    const firstFailed = steps.findIndex((step) => !step.passed);
    const passed = firstFailed === -1 ? steps : steps.slice(0, firstFailed);
    return { capacity: passed.at(-1)?.rate ?? 0, topRate: rates.at(-1)!, warmup, steps };
  } finally {
    await fleet.close();
  }
}

/** Why a step misses the bound; none when it passes. NaN (nothing delivered) fails. */
export function failures(step: OpenLoopStep, bound: CapacityBound): string[] {
  const failed: string[] = [];
  const share = step.deliveredPerSec / step.rate;
  if (!(share >= bound.deliveredShare)) failed.push(`delivered ${(share * 100).toFixed(1)} %`);
  if (step.scheduledLatencyMs.count === 0) failed.push('nothing delivered');
  else if (!(step.scheduledLatencyMs.p99 <= bound.p99Ms)) failed.push(`p99 ${step.scheduledLatencyMs.p99} ms`);
  if (step.lost > 0) failed.push(`lost ${step.lost}`);
  if (!(step.rssSlopeMiBPerSec < bound.rssSlopeMiBPerSec)) failed.push(`RSS +${step.rssSlopeMiBPerSec} MiB/s`);
  return failed;
}

function describe(step: OpenLoopStep, failed: string[]): string {
  const verdict = failed.length === 0 ? 'pass' : `fail (${failed.join(', ')})`;
  const lag = `send lag p99 ${step.sendLagMs.p99} ms${step.generatorLimited ? ', generator-limited' : ''}`;
  return `capacity ${step.rate} msg/s: ${verdict}; ${step.deliveredPerSec} delivered/s, p99 ${step.scheduledLatencyMs.p99} ms from the schedule, RSS ${step.rssSlopeMiBPerSec} MiB/s, ${step.serverCpuUsPerMessage} µs CPU/msg, ${lag}`;
}
