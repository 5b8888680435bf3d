import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DIST_BENCH } from '../paths.js';
import { rssKiB } from '../peers/process.js';
import type { LoadMessage, ScenarioResult, Task } from './task.js';

/**
 * Runs one task in a fresh load generator process. It inherits the orchestrator's
 * CPU affinity (the load core). `serverPid` is sampled when the generator asks for RSS.
 */
export function runInGenerator(task: Task, serverPid: number, timeoutMs: number): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const child = fork(join(DIST_BENCH, 'load', 'generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`load generator gave no result within ${timeoutMs} ms`));
    }, timeoutMs);
    function finish(err: Error | undefined, result?: ScenarioResult): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result!);
    }
    child.on('message', (message: LoadMessage) => {
      if (message.kind === 'level') child.send({ rssKiB: rssKiB(serverPid) });
      else if (message.kind === 'result') finish(undefined, message.result);
      else finish(new Error(message.error));
    });
    child.once('exit', (code) => finish(new Error(`load generator exited with ${code}`)));
    child.send(task);
  });
}
