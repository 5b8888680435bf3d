import { connectAll } from './connect-all.js';
import type { StormResult, Task } from './task.js';

type StormTask = Extract<Task, { scenario: 'storm' }>;

/** Every device opens its socket at the same moment; the clock stops when the last one is welcomed. */
export async function runStorm(task: StormTask): Promise<StormResult> {
  const ignore = { onAck() {}, onRefused() {} };
  const start = performance.now();
  const { clients, failures } = await connectAll(task.target, 0, task.devices, ignore, Infinity);
  const elapsedMs = Math.round(performance.now() - start);
  for (const client of clients) client.close();
  return { devices: task.devices, welcomed: clients.length, elapsedMs, failures };
}
