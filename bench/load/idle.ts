import { connectAll, sleep } from './connect-all.js';
import type { DeviceClient } from './device-client.js';
import { askServerSample } from './server-sample.js';
import type { MemoryLevel, MemoryResult, Task } from './task.js';

type MemoryTask = Extract<Task, { scenario: 'memory' }>;

/**
 * Connects idle devices level by level; at each level the orchestrator samples the
 * server's RSS (it owns the server's pid) and answers with the figure.
 */
export async function runMemory(task: MemoryTask): Promise<MemoryResult> {
  const ignore = { onAck() {}, onRefused() {} };
  const clients: DeviceClient[] = [];
  const { rssKiB: baselineRssKiB } = await askServerSample();
  const levels: MemoryLevel[] = [];
  for (const devices of task.levels) {
    const { clients: more, failures } = await connectAll(task.target, clients.length, devices, ignore, 128);
    clients.push(...more);
    if (Object.keys(failures).length > 0) process.stderr.write(`memory: connect failures ${JSON.stringify(failures)}\n`);
    await sleep(1000); // let the server settle (buffers freed, timers armed)
    const { rssKiB } = await askServerSample();
    levels.push({ devices, connected: clients.length, rssKiB, kibPerDevice: Math.round(((rssKiB - baselineRssKiB) / Math.max(1, clients.length)) * 10) / 10 });
  }
  for (const client of clients) client.close();
  return { baselineRssKiB, levels };
}
