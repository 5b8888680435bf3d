import type { Rng } from '../rng.js';
import { clamp, DAY_MS, elapsedHours, invalidParams, round, type SensorModel } from './sensor-model.js';

// An indoor/outdoor air sensor. Temperature = daily sine (peak mid-afternoon)
// + a mean-reverting random walk (weather) + sensor noise, with a rare spike
// (sun on the housing, a door opening). Humidity moves against temperature, as
// relative humidity does when the air warms. The battery drains ~0.2 %/h.
export function createEnvSensor(rng: Rng): SensorModel {
  const baseTemp = rng.between(14, 24);
  const amplitude = rng.between(2, 6);
  const phaseMs = rng.between(-2, 2) * 3_600_000; // not every site peaks at the same minute
  const baseHumidity = rng.between(40, 60);
  let walk = 0;
  let battery = rng.between(55, 100);
  let offset = 0;
  let previousTs: number | undefined;
  let invalidKind = 0;

  return {
    name: 'env-sensor',
    commands: ['calibrate'],
    read(ts) {
      const hours = elapsedHours(previousTs, ts);
      previousTs = ts;
      // Peak at 15:00 UTC (+ phase): the sine's zero crossing rising is at 09:00.
      const dayAngle = (2 * Math.PI * ((ts + phaseMs - 9 * 3_600_000) % DAY_MS)) / DAY_MS;
      const daily = amplitude * Math.sin(dayAngle);
      walk = walk * 0.995 + rng.gaussian() * 0.05;
      const spike = rng.chance(0.001) ? rng.between(5, 12) : 0;
      const trueTemp = baseTemp + daily + walk;
      const temperature = clamp(trueTemp + spike + offset + rng.gaussian() * 0.08, -40, 125);
      const humidity = clamp(baseHumidity - 2.2 * (trueTemp - baseTemp) + rng.gaussian() * 0.6, 0, 100);
      battery = clamp(battery - hours * 0.2 - (rng.chance(0.01) ? 0.01 : 0), 0, 100);
      return { temperature: round(temperature, 2), humidity: round(humidity, 1), battery: round(battery, 1) };
    },
    readInvalid(ts) {
      const reading: Record<string, unknown> = this.read(ts);
      // Cycle through the ways real firmware gets it wrong.
      switch (invalidKind++ % 4) {
        case 0:
          reading.temperature = String(reading.temperature);
          break;
        case 1:
          reading.humidity = 140;
          break;
        case 2:
          delete reading.humidity;
          break;
        default:
          reading.pressure = 1013;
      }
      return reading;
    },
    state: () => ({ calibrationOffset: offset }),
    command(name, params) {
      if (name !== 'calibrate') return undefined;
      const value = params.offset;
      if (typeof value !== 'number' || value < -10 || value > 10) {
        return invalidParams('calibrate needs {"offset": number between -10 and 10}');
      }
      offset = value;
      return { ok: true, result: { offset } };
    },
  };
}
