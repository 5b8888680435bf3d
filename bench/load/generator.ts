/**
 * The load generator process. The orchestrator forks it once per scenario (pinned to its
 * own core), sends one Task over IPC and receives one result; it never shares a process
 * with the system under test.
 */
import { runCapacity } from './capacity.js';
import { runCommands } from './commands.js';
import { runFixedRate } from './fixed-rate.js';
import { runMemory } from './idle.js';
import { runOverload } from './overload.js';
import { runSaturation } from './saturation.js';
import { runStorm } from './storm.js';
import type { LoadMessage, ScenarioResult, Task } from './task.js';

function run(task: Task): Promise<ScenarioResult> {
  switch (task.scenario) {
    case 'saturation':
      return runSaturation(task);
    case 'fixed-rate':
      return runFixedRate(task);
    case 'memory':
      return runMemory(task);
    case 'commands':
      return runCommands(task);
    case 'storm':
      return runStorm(task);
    case 'capacity':
      return runCapacity(task);
    case 'overload':
      return runOverload(task);
  }
}

process.once('message', (task: Task) => {
  const started = performance.now();
  const cpu = process.cpuUsage();
  run(task).then(
    (result) => {
      const used = process.cpuUsage(cpu);
      const cpuPercent = Math.round(((used.user + used.system) / 1000 / (performance.now() - started)) * 100);
      process.send!({ kind: 'result', result, cpuPercent } satisfies LoadMessage, () => process.exit(0));
    },
    (err: Error) => process.send!({ kind: 'failed', error: err.stack ?? err.message } satisfies LoadMessage, () => process.exit(1)),
  );
});
