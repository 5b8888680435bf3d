export interface OpenLoopPlan {
  /** Messages per second. */
  rate: number;
  /** Sent first at the same rate, measured apart (a fresh server runs code V8 has not compiled yet). */
  warmupMs: number;
  durationMs: number;
}

/** The warm-up used by the fixed-rate scenarios: a fifth of the run, at most 1 s. */
export function warmupFor(durationMs: number): number {
  return Math.min(1000, durationMs / 5);
}

/**
 * Open loop: message i is due at start + i/rate whatever the system does, so a
 * stalled system cannot slow the sender down and hide its own latency (no
 * coordinated omission). Calls `send(i, dueAt)` for each message; resolves with
 * the total once all are sent. `onStart` gets the start time before the first send.
 */
export function runOpenLoop(plan: OpenLoopPlan, send: (i: number, dueAt: number) => void, onStart: (start: number) => void = () => {}): Promise<number> {
  const total = Math.round((plan.rate * (plan.warmupMs + plan.durationMs)) / 1000);
  const intervalMs = 1000 / plan.rate;
  const start = performance.now();
  onStart(start);
  let next = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      for (; next < due; next++) send(next, start + next * intervalMs);
      if (next >= total) {
        clearInterval(timer);
        resolve(total);
      }
    }, 1);
  });
}
