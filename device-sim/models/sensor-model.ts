/** The answer to one command, before it is wrapped in a command_result frame. */
export type CommandOutcome =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: { code: string; message: string } };

/**
 * One simulated sensor's physics. A model only turns time into readings and
 * handles its own commands; the connection, ids and acks live in device.ts.
 */
export interface SensorModel {
  readonly name: string;
  /** The model's own commands, which command() answers (the common ones are in handle-command.ts). */
  readonly commands: readonly string[];
  /** A reading that validates against schemas/models/{name}/telemetry.schema.json. */
  read(ts: number): Record<string, number>;
  /** A reading that breaks that schema, for --invalid-rate. */
  readInvalid(ts: number): Record<string, unknown>;
  /** Model-specific fields of the state frame (schemas/models/{name}/state.schema.json). */
  state(): Record<string, unknown>;
  /** A model-specific command, or undefined when the model has no command of that name. */
  command(name: string, params: Record<string, unknown>): CommandOutcome | undefined;
}

export function invalidParams(message: string): CommandOutcome {
  return { ok: false, error: { code: 'invalid_params', message } };
}

/** Rounds to `digits` decimals; readings with 15 digits look fake and waste bytes. */
export function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Hours since the previous reading, bounded so a long pause does not make a jump. */
export function elapsedHours(previousTs: number | undefined, ts: number): number {
  if (previousTs === undefined) return 0;
  return clamp(ts - previousTs, 0, HOUR_MS) / HOUR_MS;
}
