import { fail, ok, type SimResult } from './sim-errors.js';

const RATE = /^(\d+(?:\.\d+)?)\s*\/\s*(ms|s|sec|m|min|h)$/;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** '1/s', '200/s', '30/min', '0.5/s' -> events per second. */
export function parseRate(text: string): SimResult<number> {
  const match = RATE.exec(text.trim());
  if (!match) return fail('bad_option', `rate "${text}" must look like 1/s, 200/s or 30/min`);
  const perSecond = (Number(match[1]) * 1000) / UNIT_MS[match[2]!]!;
  if (!(perSecond > 0)) return fail('bad_option', `rate "${text}" must be greater than zero`);
  return ok(perSecond);
}

/** '60s', '500ms', '2m', '1h' -> milliseconds. A bare number means seconds. */
export function parseDuration(text: string): SimResult<number> {
  const match = DURATION.exec(text.trim());
  if (!match) return fail('bad_option', `duration "${text}" must look like 500ms, 60s, 5m or 1h`);
  const ms = Number(match[1]) * UNIT_MS[match[2] ?? 's']!;
  if (!(ms > 0)) return fail('bad_option', `duration "${text}" must be greater than zero`);
  return ok(Math.round(ms));
}

/** '0.01' -> 0.01; a probability in [0, 1]. */
export function parseProbability(text: string): SimResult<number> {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    return fail('bad_option', `"${text}" must be a probability between 0 and 1, such as 0.01`);
  }
  return ok(value);
}

/** A whole number >= min. */
export function parseCount(text: string, min = 1): SimResult<number> {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) return fail('bad_option', `"${text}" must be a whole number >= ${min}`);
  return ok(value);
}
