import type { CommandOutcome, SensorModel } from './models/sensor-model.js';
import { invalidParams } from './models/sensor-model.js';

/** What a command may do to the device that received it. */
export interface CommandTarget {
  readonly sensor: SensorModel;
  uptimeMs(): number;
  /** Goes offline after the result is sent, and returns after delayMs. */
  reboot(delayMs: number): void;
  setIntervalSeconds(seconds: number): void;
}

export const DEFAULT_REBOOT_DELAY_MS = 3000;

// Commands every model has (schemas/models/*/commands.schema.json); the
// model's own (calibrate, locate, set_relay) go to the sensor model.
export function handleCommand(target: CommandTarget, name: string, params: Record<string, unknown>): CommandOutcome {
  switch (name) {
    case 'reboot': {
      const delayMs = params.delayMs ?? DEFAULT_REBOOT_DELAY_MS;
      if (!Number.isInteger(delayMs) || (delayMs as number) < 0 || (delayMs as number) > 60_000) {
        return invalidParams('reboot takes {"delayMs": integer 0..60000}');
      }
      target.reboot(delayMs as number);
      return { ok: true, result: { rebooting: true, delayMs } };
    }
    case 'set_interval': {
      const seconds = params.seconds;
      if (!Number.isInteger(seconds) || (seconds as number) < 1 || (seconds as number) > 86_400) {
        return invalidParams('set_interval needs {"seconds": integer 1..86400}');
      }
      target.setIntervalSeconds(seconds as number);
      return { ok: true, result: { seconds } };
    }
    case 'ping':
      return { ok: true, result: { uptimeSec: Math.floor(target.uptimeMs() / 1000) } };
    default:
      return (
        target.sensor.command(name, params) ?? {
          ok: false,
          error: { code: 'unknown_command', message: `${target.sensor.name} has no command "${name}"` },
        }
      );
  }
}
