/**
 * `npm run fuzz [-- --frames N | --minutes M] [--seed S]`: the frame fuzz
 * property of test/fuzz-frames.test.ts, for long (default 1,000,000 frames).
 * Without --seed (or FUZZ_SEED) each run picks a new seed, to explore; it is
 * printed first, and a failure prints FUZZ_SEED/FUZZ_PATH to replay it.
 * Exits 1 on a failure.
 */
import { parseArgs } from 'node:util';
import { FuzzSession } from './fuzz-session.js';
import { optionsFromEnv, runFrameFuzz } from './run-fuzz.js';

const PROGRESS_MS = 10_000;

const { values } = parseArgs({ options: { frames: { type: 'string' }, minutes: { type: 'string' }, seed: { type: 'string' } } });
const positive = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} ${value}: expected a positive number`);
  return n;
};
const minutes = positive('minutes', values.minutes);
const options = optionsFromEnv({
  seed: Math.floor(Math.random() * 2 ** 31),
  frames: minutes === undefined ? 1_000_000 : Number.POSITIVE_INFINITY,
  window: 256,
  shrinkBudgetMs: 120_000,
  log: (line) => console.error(line),
});
if (values.seed !== undefined) options.seed = Number.parseInt(values.seed, 10);
options.frames = positive('frames', values.frames) ?? options.frames;
if (minutes !== undefined) options.until = Date.now() + minutes * 60_000;

const session = await FuzzSession.start();
const started = Date.now();
const progress = (): string => {
  const { stats } = session;
  const seconds = (Date.now() - started) / 1000;
  return `${stats.frames} frames, ${stats.batches} batches, ${seconds.toFixed(0)} s (${(stats.frames / seconds).toFixed(0)} frames/s); replies ${JSON.stringify(stats.replies)}`;
};
console.error(`frame fuzz: seed ${options.seed}, ${minutes === undefined ? `${options.frames} frames` : `${minutes} min`}, window ${options.window}`);
const ticker = setInterval(() => console.error(progress()), PROGRESS_MS);
try {
  await runFrameFuzz(session, options);
  console.error(`done: ${progress()}`);
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  clearInterval(ticker);
  await session.close();
}
