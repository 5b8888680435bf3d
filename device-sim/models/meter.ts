import type { Rng } from '../rng.js';
import { clamp, DAY_MS, elapsedHours, HOUR_MS, invalidParams, round, type SensorModel } from './sensor-model.js';

// A household electricity meter. Power follows a daily load profile (night
// base load, a morning and a larger evening peak) scaled per home, plus noise
// and now and then an appliance (kettle, oven) for a few readings. Energy
// integrates power, so it never goes down.
export function createMeter(rng: Rng): SensorModel {
  const scale = rng.between(0.6, 1.6);
  const phaseMs = rng.between(-1, 1) * HOUR_MS;
  let energy = rng.between(1_000, 20_000);
  let applianceW = 0;
  let applianceReadings = 0;
  let relayOn = true;
  let previousTs: number | undefined;
  let invalidKind = 0;

  function profileW(ts: number): number {
    const hour = (((ts + phaseMs) % DAY_MS) + DAY_MS) % DAY_MS / HOUR_MS;
    const bump = (center: number, width: number, height: number): number =>
      height * Math.exp(-(((hour - center) / width) ** 2));
    return 180 + bump(7.5, 1.2, 900) + bump(19.5, 2, 1500) + bump(13, 1.5, 300);
  }

  return {
    name: 'meter',
    commands: ['set_relay'],
    read(ts) {
      const hours = elapsedHours(previousTs, ts);
      previousTs = ts;
      if (applianceReadings > 0) applianceReadings--;
      else if (rng.chance(0.01)) {
        applianceW = rng.between(800, 2800);
        applianceReadings = Math.floor(rng.between(3, 30));
      } else applianceW = 0;
      const power = relayOn ? clamp(profileW(ts) * scale + applianceW + rng.gaussian() * 15, 0, 1_000_000) : 0;
      energy += (power / 1000) * hours;
      return { power: round(power, 1), energy: round(energy, 4) };
    },
    readInvalid(ts) {
      const reading: Record<string, unknown> = this.read(ts);
      switch (invalidKind++ % 3) {
        case 0:
          reading.energy = -1;
          break;
        case 1:
          reading.power = 'n/a';
          break;
        default:
          delete reading.power;
      }
      return reading;
    },
    state: () => ({ relay: relayOn ? 'on' : 'off' }),
    command(name, params) {
      if (name !== 'set_relay') return undefined;
      if (typeof params.on !== 'boolean') return invalidParams('set_relay needs {"on": true|false}');
      relayOn = params.on;
      return { ok: true, result: { relay: relayOn ? 'on' : 'off' } };
    },
  };
}
