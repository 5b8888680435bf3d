import { join } from 'node:path';
import type { DeviceIdentity } from './device.js';
import { provisionDevices } from './provision.js';
import type { RunOptions } from './run-options.js';
import { ok, type SimResult } from './sim-errors.js';

export interface DemoFlags {
  dataDir: string;
  url: string;
  durationMs: number | undefined;
  json: boolean;
}

/** The address `npm start` (the dev gateway) listens on. */
export const DEV_GATEWAY_URL = 'wss://127.0.0.1:8443/v1/device';
export const DEMO_TOKENS_FILE = 'demo-tokens.json';

// A small mixed fleet, so a newcomer sees every model's topics in MQTT.
const DEMO_FLEET = [
  { prefix: 'demo-env-', model: 'env-sensor', count: 4 },
  { prefix: 'demo-tracker-', model: 'tracker', count: 3 },
  { prefix: 'demo-meter-', model: 'meter', count: 3 },
] as const;

/** What the demo says first: what it needs and what it will touch. */
export function demoIntro(dataDir: string): string {
  return `device-sim demo: 10 simulated devices (env-sensor, tracker, meter), 1 reading/s each.
It expects the dev gateway running in another terminal:  npm start
It provisions into the gateway's data dir and keeps tokens in ${join(dataDir, DEMO_TOKENS_FILE)},
so running it again reuses the same devices. Ctrl-C stops it and prints a summary.
`;
}

/**
 * Provisions the demo fleet into the gateway's data dir (again-safe: devices
 * whose tokens are already in the demo tokens file are kept) and returns the
 * options for a run against the local dev gateway. Nothing is started in the
 * background: the gateway is the user's own `npm start`.
 */
export async function prepareDemo(flags: DemoFlags): Promise<SimResult<RunOptions>> {
  const out = join(flags.dataDir, DEMO_TOKENS_FILE);
  let devices: DeviceIdentity[] = [];
  for (const group of DEMO_FLEET) {
    const report = await provisionDevices({ ...group, dataDir: flags.dataDir, out });
    if (!report.ok) return report;
    devices = report.value.devices;
  }
  const wanted = new Set(DEMO_FLEET.flatMap((group) => group.prefix));
  return ok({
    url: flags.url,
    devices: devices.filter((identity) => [...wanted].some((prefix) => identity.device.startsWith(prefix))),
    ratePerSec: 1,
    rampPerSec: 20,
    durationMs: flags.durationMs,
    drainMs: 3000,
    seed: 1,
    // The dev gateway's certificate is self-signed. The demo accepts that only
    // on this machine; pointed elsewhere it checks certificates like `run` does.
    insecure: isLoopback(flags.url),
    json: flags.json,
    invalidRate: 0,
    dropRate: 0,
  });
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}
