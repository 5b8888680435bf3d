import type { Rng } from '../rng.js';
import { createEnvSensor } from './env-sensor.js';
import { createMeter } from './meter.js';
import type { SensorModel } from './sensor-model.js';
import { createTracker } from './tracker.js';

const FACTORIES: Record<string, (rng: Rng) => SensorModel> = {
  'env-sensor': createEnvSensor,
  tracker: createTracker,
  meter: createMeter,
};

/** Models the simulator can play; a device of any other model cannot be simulated. */
export const SIMULATED_MODELS: readonly string[] = Object.keys(FACTORIES);

export function createSensor(model: string, rng: Rng): SensorModel | undefined {
  return FACTORIES[model]?.(rng);
}
