import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { GatewayAddresses } from '../server.js';

const START_TIMEOUT_MS = 60_000;
/** A worker that dies this soon after its start is failing to start, not crashing: do not respawn it. */
const STABLE_AFTER_MS = 10_000;

export type WorkerMessage = { type: 'listening'; addresses: GatewayAddresses };

/** `--workers`: a count, or `auto` for one per CPU. */
export function parseWorkers(value: string | undefined): number {
  if (value === undefined) return 1;
  if (value === 'auto') return availableParallelism();
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new ConfigError(`--workers: expected a positive integer or auto, got ${value}`);
  return count;
}

/**
 * The primary of `start --workers N`: forks N gateway workers that share the WSS, MQTT
 * and HTTP ports (node:cluster hands each accepted socket to one of them), resolves with
 * the shared addresses once all listen, restarts a worker that dies, and on `stop` ends
 * them all with SIGTERM (each closes its devices with 1001 and publishes their offline
 * presence) and resolves when they have exited.
 */
export async function runWorkers(count: number, log: Logger): Promise<{ addresses: GatewayAddresses; stop(): Promise<void> }> {
  let stopping = false;
  const startedAt = new Map<Worker, number>();
  let failStart: ((err: Error) => void) | undefined;

  const fork = (): Worker => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.on('exit', (code, signal) => {
      const lived = Date.now() - startedAt.get(worker)!;
      startedAt.delete(worker);
      if (stopping) return;
      if (lived < STABLE_AFTER_MS && failStart) {
        failStart(new ConfigError(`a gateway worker exited ${code ?? signal} while starting (its error is above)`));
        return;
      }
      log.error('gateway worker died; starting another', { code: 'worker_died', pid: worker.process.pid, exitCode: code, signal });
      fork();
    });
    return worker;
  };

  const workers = Array.from({ length: count }, fork);
  const listening = workers.map(
    (worker) =>
      new Promise<GatewayAddresses>((resolve) => {
        worker.on('message', (message: WorkerMessage) => {
          if (message.type === 'listening') resolve(message.addresses);
        });
      }),
  );
  const stop = async () => {
    stopping = true;
    const alive = [...startedAt.keys()];
    await Promise.all(
      alive.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    const all = await new Promise<GatewayAddresses[]>((resolve, reject) => {
      failStart = reject;
      const timer = setTimeout(() => reject(new ConfigError(`gateway workers did not all listen within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      Promise.all(listening).then((addresses) => {
        clearTimeout(timer);
        resolve(addresses);
      }, reject);
    });
    failStart = undefined;
    log.info('gateway workers listening', { workers: count, ...all[0] });
    return { addresses: all[0]!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
