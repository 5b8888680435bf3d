import { fork } from 'node:child_process';
import { join } from 'node:path';
import { DIST_BENCH } from '../paths.js';
import { cpuSeconds, rssKiB } from '../peers/process.js';
import type { RunningPeer } from '../peers/peer.js';
import type { LoadMessage, ScenarioResult, ServerSample, Task } from './task.js';

/**
 * Runs one task in a fresh load generator process. It inherits the orchestrator's
 * CPU affinity (the load core). The server is sampled (RSS, CPU) when the generator asks.
 */
export interface GeneratorRun {
  result: ScenarioResult;
  /** CPU use over the whole task (set-up included), % of one core; `processes` splits serverSeconds when there are several. */
  cpu: { loadPercent: number; serverPercent: number; serverSeconds: number; processes?: Record<string, number> };
  /** Highest server RSS seen (sampled every 250 ms): where a system without backpressure piles up. */
  peakRssKiB: number;
}

export function runInGenerator(task: Task, server: RunningPeer, timeoutMs: number): Promise<GeneratorRun> {
  const started = performance.now();
  const serverPid = server.pid;
  const processes = server.processes?.() ?? [{ name: 'server', pid: serverPid }];
  const cpuBefore = processes.map(({ pid }) => cpuSeconds(pid));
  let peakRssKiB = rssKiB(serverPid);
  const sampler = setInterval(() => {
    try {
      peakRssKiB = Math.max(peakRssKiB, rssKiB(serverPid));
    } catch {
      // the server exited; the run will report why
    }
  }, 250);
  return new Promise((resolve, reject) => {
    const child = fork(join(DIST_BENCH, 'load', 'generator.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // e.g. BENCH_LOAD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the load generator
      execArgv: process.env.BENCH_LOAD_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
    });
    let settled = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`load generator gave no result within ${timeoutMs} ms`));
    }, timeoutMs);
    function finish(err: Error | undefined, result?: GeneratorRun): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(sampler);
      if (err) reject(err);
      else resolve(result!);
    }
    child.on('message', (message: LoadMessage) => {
      if (message.kind === 'sample') {
        try {
          child.send({ rssKiB: rssKiB(serverPid), cpuSeconds: cpuSecondsOf(processes) } satisfies ServerSample);
        } catch (err) {
          // The server is gone (no /proc entry): the run fails with that, not the orchestrator.
          child.kill('SIGKILL');
          finish(new Error(`cannot sample the server: ${(err as Error).message}`));
        }
      } else if (message.kind === 'result') {
        const used = processes.map(({ pid }, i) => Math.round((cpuSeconds(pid) - cpuBefore[i]!) * 100) / 100);
        const serverSeconds = Math.round(used.reduce((a, b) => a + b, 0) * 100) / 100;
        const serverPercent = Math.round((serverSeconds * 100_000) / (performance.now() - started));
        const cpu = { loadPercent: message.cpuPercent, serverPercent, serverSeconds, ...(processes.length > 1 && { processes: Object.fromEntries(processes.map(({ name }, i) => [name, used[i]!])) }) };
        finish(undefined, { result: message.result, cpu, peakRssKiB });
      } else finish(new Error(message.error));
    });
    child.once('exit', (code) => finish(new Error(`load generator exited with ${code}`)));
    child.send(task);
  });
}

function cpuSecondsOf(processes: readonly { pid: number }[]): number {
  return processes.reduce((sum, { pid }) => sum + cpuSeconds(pid), 0);
}
