import type { Rng } from '../rng.js';
import { clamp, elapsedHours, round, type SensorModel } from './sensor-model.js';

const KM_PER_DEGREE = 111.32;

// A vehicle tracker. It alternates between driving (speed eases toward a
// cruising target, heading wanders and sometimes turns at a junction) and
// parking (speed 0 for a while). Position integrates speed and heading, so
// consecutive fixes are as far apart as the speed says.
export function createTracker(rng: Rng): SensorModel {
  let lat = 48.85 + rng.between(-0.3, 0.3);
  let lon = 2.35 + rng.between(-0.3, 0.3);
  let heading = rng.between(0, 360);
  let speed = 0;
  let cruise = rng.between(25, 90);
  let parkedReadings = rng.chance(0.3) ? Math.floor(rng.between(5, 60)) : 0;
  let previousTs: number | undefined;
  let invalidKind = 0;

  function step(hours: number): void {
    if (parkedReadings > 0) {
      parkedReadings--;
      speed = 0;
      if (parkedReadings === 0) cruise = rng.between(25, 90);
      return;
    }
    if (rng.chance(0.005)) parkedReadings = Math.floor(rng.between(10, 120));
    if (rng.chance(0.02)) heading += rng.chance(0.5) ? 90 : -90; // a junction
    heading = (((heading + rng.gaussian() * 4) % 360) + 360) % 360;
    speed = clamp(speed + (cruise - speed) * 0.2 + rng.gaussian() * 2, 0, 160);
    const km = speed * hours;
    const radians = (heading * Math.PI) / 180;
    lat = clamp(lat + (km * Math.cos(radians)) / KM_PER_DEGREE, -89.9, 89.9);
    lon += (km * Math.sin(radians)) / (KM_PER_DEGREE * Math.cos((lat * Math.PI) / 180));
    if (lon > 180) lon -= 360;
    if (lon < -180) lon += 360;
  }

  function fix(): Record<string, number> {
    // Rounding 359.96 up would give 360, which the schema excludes.
    const shownHeading = round(heading, 1) % 360;
    return { lat: round(lat, 6), lon: round(lon, 6), speed: round(speed, 1), heading: shownHeading };
  }

  return {
    name: 'tracker',
    commands: ['locate'],
    read(ts) {
      step(elapsedHours(previousTs, ts));
      previousTs = ts;
      return fix();
    },
    readInvalid(ts) {
      const reading: Record<string, unknown> = this.read(ts);
      switch (invalidKind++ % 3) {
        case 0:
          reading.lat = 123.4;
          break;
        case 1:
          delete reading.lon;
          break;
        default:
          reading.heading = 360;
      }
      return reading;
    },
    state: () => ({ mode: parkedReadings > 0 ? 'parked' : 'moving' }),
    command(name) {
      if (name !== 'locate') return undefined;
      return { ok: true, result: fix() };
    },
  };
}
