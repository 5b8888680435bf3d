import { connectAll, sleep } from './connect-all.js';
import { runOpenLoop, warmupFor } from './open-loop.js';
import { Samples } from './percentiles.js';
import { connectBackend } from './subscriber.js';
import type { CommandsResult, Task } from './task.js';

type CommandsTask = Extract<Task, { scenario: 'commands' }>;

/** A backend publishes `ping` commands at a fixed rate to online devices; each device answers at once. */
export async function runCommands(task: CommandsTask): Promise<CommandsResult> {
  const ignore = { onAck() {}, onRefused() {} };
  const { clients, failures } = await connectAll(task.target, 0, task.devices, ignore);
  if (clients.length < task.devices) throw new Error(`only ${clients.length}/${task.devices} devices connected: ${JSON.stringify(failures)}`);
  const backend = await connectBackend(task.backend, 'bench-backend');
  const publishedAt = new Map<string, number>();
  const latency = new Samples();
  // Fresh server: the first fifth of the run (at most 1 s) is warm-up, reported apart (see fixed-rate.ts).
  const warmupLatency = new Samples();
  let measureFrom = Infinity;
  const statuses: Record<string, number> = {};
  backend.on('message', (_topic, payload) => {
    const event = JSON.parse(payload.toString()) as { id: string; status: string };
    statuses[event.status] = (statuses[event.status] ?? 0) + 1;
    if (event.status !== 'succeeded') return;
    const at = publishedAt.get(event.id);
    if (at !== undefined) (at >= measureFrom ? latency : warmupLatency).add(performance.now() - at);
    publishedAt.delete(event.id);
  });
  await backend.subscribeAsync('devices/+/commands/+/status', { qos: 1 });

  const warmupMs = warmupFor(task.durationMs);
  const total = await runOpenLoop(
    { rate: task.rate, warmupMs, durationMs: task.durationMs },
    (i, dueAt) => {
      const device = task.target.devices[i % task.devices]!.id;
      const id = `c-${i}`;
      publishedAt.set(id, dueAt);
      backend.publish(`devices/${device}/commands`, `{"id":"${id}","name":"ping","params":{}}`, { qos: 1 });
    },
    (start) => (measureFrom = start + warmupMs),
  );
  for (let waited = 0; publishedAt.size > 0 && waited < 5000; waited += 50) await sleep(50);
  await backend.endAsync(true);
  for (const client of clients) client.close();
  return { rate: task.rate, sent: total, succeeded: latency.count + warmupLatency.count, statuses, latencyMs: latency.percentiles(), warmupLatencyMs: warmupLatency.percentiles() };
}
