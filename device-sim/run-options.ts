import { randomInt } from 'node:crypto';
import type { DeviceIdentity } from './device.js';
import type { FleetOptions } from './fleet.js';
import { SIMULATED_MODELS } from './models/create-sensor.js';
import { parseCount, parseDuration, parseProbability, parseRate } from './parse-units.js';
import { fail, ok, type SimResult } from './sim-errors.js';
import { readTokensFile } from './tokens-file.js';

/** `device-sim run` flags as commander hands them over: strings, unchecked. */
export interface RawRunFlags {
  url: string;
  tokens: string;
  devices?: string;
  rate: string;
  ramp: string;
  duration?: string;
  drain: string;
  seed?: string;
  insecure?: boolean;
  json?: boolean;
  invalidRate: string;
  dropRate: string;
}

/** The fleet's options, plus how long to run and how to report. */
export interface RunOptions extends FleetOptions {
  /** Absent: run until SIGINT/SIGTERM. */
  durationMs: number | undefined;
  drainMs: number;
  json: boolean;
}

/** Checks every flag once, up front, with a message saying what to change. */
export function checkRunFlags(flags: RawRunFlags): SimResult<RunOptions> {
  if (!/^wss?:\/\//.test(flags.url)) return fail('bad_option', `--url "${flags.url}" must start with wss:// (or ws:// for a plain dev gateway)`);
  const rate = parseRate(flags.rate);
  if (!rate.ok) return rate;
  const ramp = parseRate(flags.ramp);
  if (!ramp.ok) return ramp;
  const duration = flags.duration === undefined ? ok(undefined) : parseDuration(flags.duration);
  if (!duration.ok) return duration;
  const drain = parseDuration(flags.drain);
  if (!drain.ok) return drain;
  const invalidRate = parseProbability(flags.invalidRate);
  if (!invalidRate.ok) return invalidRate;
  const dropRate = parseProbability(flags.dropRate);
  if (!dropRate.ok) return dropRate;
  const seed = flags.seed === undefined ? ok(randomInt(2 ** 31)) : parseCount(flags.seed, 0);
  if (!seed.ok) return seed;
  const tokens = readTokensFile(flags.tokens);
  if (!tokens.ok) return tokens;
  const devices = selectDevices(tokens.value, flags.devices, flags.tokens);
  if (!devices.ok) return devices;
  return ok({
    url: flags.url,
    devices: devices.value,
    ratePerSec: rate.value,
    rampPerSec: ramp.value,
    durationMs: duration.value,
    drainMs: drain.value,
    seed: seed.value,
    insecure: flags.insecure === true,
    json: flags.json === true,
    invalidRate: invalidRate.value,
    dropRate: dropRate.value,
  });
}

function selectDevices(all: DeviceIdentity[], wanted: string | undefined, path: string): SimResult<DeviceIdentity[]> {
  const count = wanted === undefined ? ok(all.length) : parseCount(wanted);
  if (!count.ok) return count;
  if (count.value > all.length || all.length === 0) {
    return fail('not_enough_tokens', `${path} holds ${all.length} devices, --devices asks for ${count.value}; provision more first`);
  }
  const chosen = all.slice(0, count.value);
  const unsupported = chosen.find((identity) => !SIMULATED_MODELS.includes(identity.model));
  if (unsupported) {
    return fail('bad_tokens_file', `${unsupported.device} has model "${unsupported.model}"; device-sim plays ${SIMULATED_MODELS.join(', ')}`);
  }
  return ok(chosen);
}
