import { welcomeDevice } from './storm-client.js';
import type { StormResult, Task } from './task.js';

type StormTask = Extract<Task, { scenario: 'storm' }>;

/** Every device opens its socket at the same moment; the clock stops when the last one is welcomed. */
export async function runStorm(task: StormTask): Promise<StormResult> {
  const failures: Record<string, number> = {};
  const start = performance.now();
  const outcomes = await Promise.allSettled(task.target.devices.slice(0, task.devices).map((device) => welcomeDevice(task.target, device)));
  const elapsedMs = Math.round(performance.now() - start);
  let welcomed = 0;
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') {
      welcomed++;
      outcome.value.destroy();
    } else {
      const reason = (outcome.reason as { reason?: string }).reason ?? `error:${(outcome.reason as Error).message}`;
      failures[reason] = (failures[reason] ?? 0) + 1;
    }
  }
  return { devices: task.devices, welcomed, elapsedMs, failures };
}
