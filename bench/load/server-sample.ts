import type { LoadMessage, ServerSample } from './task.js';

export interface TimedSample extends ServerSample {
  /** performance.now() when it was asked for. */
  at: number;
}

// Replies come back in the order asked (one IPC channel, answered synchronously).
const waiting: ((sample: ServerSample) => void)[] = [];
let listening = false;

/** Asks the orchestrator, which owns the server's pids, for the server's RSS and CPU. */
export function askServerSample(): Promise<TimedSample> {
  if (!listening) {
    process.on('message', (reply: ServerSample) => waiting.shift()?.(reply));
    listening = true;
  }
  const at = performance.now();
  return new Promise((resolve) => {
    waiting.push((sample) => resolve({ at, ...sample }));
    process.send!({ kind: 'sample' } satisfies LoadMessage);
  });
}

/** One sample now, one every `everyMs`, and one when stopped; `stop` resolves with them all in order. */
export function sampleServer(everyMs: number): { stop(): Promise<TimedSample[]> } {
  const samples = [askServerSample()];
  const timer = setInterval(() => samples.push(askServerSample()), everyMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(askServerSample());
      return Promise.all(samples);
    },
  };
}

/** Least-squares slope of RSS over time, MiB/s (0 with fewer than two samples). */
export function rssSlopeMiBPerSec(samples: readonly TimedSample[]): number {
  if (samples.length < 2) return 0;
  const n = samples.length;
  const meanT = samples.reduce((sum, s) => sum + s.at, 0) / n;
  const meanR = samples.reduce((sum, s) => sum + s.rssKiB, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const s of samples) {
    covariance += (s.at - meanT) * (s.rssKiB - meanR);
    variance += (s.at - meanT) ** 2;
  }
  // KiB per ms -> MiB per s
  return variance === 0 ? 0 : Math.round(((covariance / variance) * 1000 * 100) / 1024) / 100;
}

/** Server CPU µs between the first and last sample per message handled meanwhile (NaN for none). */
export function cpuUsPerMessage(first: ServerSample, last: ServerSample, messages: number): number {
  return messages > 0 ? Math.round(((last.cpuSeconds - first.cpuSeconds) * 1e7) / messages) / 10 : NaN;
}
