import fc from 'fast-check';
import { framePlans } from './frame-plans.js';
import { BrokenInvariants, type FuzzSession } from './fuzz-session.js';

export interface FuzzRunOptions {
  /** fast-check seed of the first round; round n uses seed + n. */
  seed: number;
  /** Stop once at least this many fuzzed frames went through. */
  frames: number;
  /** Or stop at this time (epoch ms), whichever comes first. */
  until?: number;
  /** Most frames sent before their replies are awaited (one batch). */
  window: number;
  /** Replays one counterexample: the fast-check path printed with it (use its round's seed). */
  path?: string;
  /** How long shrinking a failure may take before the smallest failing batch so far is reported. */
  shrinkBudgetMs: number;
  log(line: string): void;
}

/** FUZZ_SEED, FUZZ_FRAMES and FUZZ_PATH override a run's defaults. */
export function optionsFromEnv(defaults: FuzzRunOptions, env: NodeJS.ProcessEnv = process.env): FuzzRunOptions {
  const int = (name: string, fallback: number): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    if (!/^-?\d+$/.test(value)) throw new Error(`${name}=${value} is not an integer`);
    return Number(value);
  };
  const options = { ...defaults, seed: int('FUZZ_SEED', defaults.seed), frames: int('FUZZ_FRAMES', defaults.frames) };
  if (env.FUZZ_PATH) options.path = env.FUZZ_PATH;
  return options;
}

/**
 * The property: for any batch of fuzzed frames, every frame gets exactly one
 * reply, the reply the protocol promises, nothing invalid reaches a data
 * topic, the backend gets exactly what was acked, and every connection still
 * answers afterwards (FuzzSession.runBatch checks all of it).
 *
 * fast-check runs a fixed number of batches per call, and batch lengths vary,
 * so the run is split into rounds until the frame target is met; rounds are
 * seeded seed, seed + 1, ..., so one FUZZ_SEED replays the whole run.
 */
export async function runFrameFuzz(session: FuzzSession, options: FuzzRunOptions): Promise<{ rounds: number; runs: number }> {
  const batches = fc.array(framePlans(session.models), { minLength: 1, maxLength: options.window, size: 'max' });
  let failedAt: number | undefined;
  const property = fc.asyncProperty(batches, async (plans) => {
    // Past the budget, shrink candidates are not sent: they count as passing, so the
    // report is the smallest batch that was actually seen to fail.
    if (failedAt !== undefined && Date.now() - failedAt > options.shrinkBudgetMs) return;
    try {
      await session.runBatch(plans);
    } catch (err) {
      if (failedAt === undefined) {
        failedAt = Date.now();
        const shown = err instanceof BrokenInvariants ? err.message : `the fuzz harness itself threw: ${(err as Error).stack}`;
        options.log(`first failure (shrinking for up to ${options.shrinkBudgetMs} ms):\n${shown}`);
      }
      throw err;
    }
  });

  let runs = 0;
  let rounds = 0;
  const more = (): boolean => session.stats.frames < options.frames && (options.until === undefined || Date.now() < options.until);
  for (let round = 0; more(); round = ++rounds) {
    const seed = (options.seed + round) | 0;
    const done = session.stats;
    // Aim at the frames still to go from the mean batch length so far; the long run goes in short rounds to check the clock.
    const mean = done.batches > 0 ? Math.max(1, done.frames / done.batches) : options.window / 2;
    const numRuns = Math.max(1, Math.min(options.until === undefined ? Infinity : 50, Math.ceil((options.frames - done.frames) / mean)));
    const details = await fc.check(property, options.path ? { seed, path: options.path } : { seed, numRuns });
    runs += details.numRuns;
    if (details.failed) {
      const replay = `FUZZ_SEED=${seed} FUZZ_PATH=${details.counterexamplePath}`;
      throw new Error(
        `frame fuzz failed in round ${round} (fast-check seed ${seed}, ${details.numShrinks} shrinks; replay the counterexample with ${replay}):\n` +
          `${(details.errorInstance as Error | null)?.message ?? 'interrupted'}\ncounterexample batch: ${fc.stringify(details.counterexample).slice(0, 4000)}`,
      );
    }
    if (options.path) {
      rounds++;
      break;
    }
  }
  await session.finish();
  return { rounds, runs };
}
