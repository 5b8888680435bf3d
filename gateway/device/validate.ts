import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ConfigError, fail, ok, type PathError, type Result } from '../errors.js';
import type { ModelSchemas } from '../models/load-models.js';

// ajv-formats ships CommonJS with its function on `default`.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface TelemetryMessage {
  type: 'telemetry';
  id: string;
  ts?: number | string;
  data: Record<string, unknown>;
}

export interface StateMessage {
  type: 'state';
  id: string;
  state: Record<string, unknown>;
}

export type DeviceMessage = TelemetryMessage | StateMessage;

export interface ModelValidators {
  telemetry: ValidateFunction<TelemetryMessage>;
  state: ValidateFunction<StateMessage>;
}

const MESSAGE_ID = { type: 'string', minLength: 1, maxLength: 128 } as const;
const MAX_REPORTED_ERRORS = 20;

/** The telemetry frame around a model's telemetry schema (also the AsyncAPI payload). */
export const telemetryFrameSchema = (data: object) => ({
  type: 'object',
  properties: {
    type: { const: 'telemetry' },
    id: MESSAGE_ID,
    ts: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date-time' }] },
    data,
  },
  required: ['type', 'id', 'data'],
  additionalProperties: false,
});

/** The state frame around a model's state schema. */
export const stateFrameSchema = (state: object) => ({
  type: 'object',
  properties: { type: { const: 'state' }, id: MESSAGE_ID, state },
  required: ['type', 'id', 'state'],
  additionalProperties: false,
});

/** Compiles every model's frame validators once, at startup; a bad schema stops the start. */
export function compileValidators(models: readonly ModelSchemas[]): Map<string, ModelValidators> {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ModelValidators>();
  for (const model of models) {
    try {
      validators.set(model.name, {
        telemetry: ajv.compile<TelemetryMessage>(telemetryFrameSchema(model.telemetry)),
        state: ajv.compile<StateMessage>(stateFrameSchema(model.state)),
      });
    } catch (err) {
      throw new ConfigError(`Schemas of model ${model.name} do not compile: ${(err as Error).message}`);
    }
  }
  return validators;
}

export function validateMessage(validators: ModelValidators, frame: { type: string }): Result<DeviceMessage> {
  if (frame.type === 'telemetry') {
    return validators.telemetry(frame) ? ok(frame) : fail('invalid_telemetry', pathErrors(validators.telemetry.errors));
  }
  return validators.state(frame) ? ok(frame as StateMessage) : fail('invalid_state', pathErrors(validators.state.errors));
}

// Point at the offending property itself (ajv reports `required` and
// `additionalProperties` on the parent object), so a device author sees
// "/data/humidity" rather than "/data". ajv's instancePath is already a JSON
// pointer; the property name is raw and needs the same escaping (RFC 6901), or
// a key "a/b" would read as two levels.
export function pathErrors(errors: ErrorObject[] | null | undefined): PathError[] {
  // An `if` failure only says which `then` failed; that `then` reports the real cause.
  return (errors ?? []).filter((e) => e.keyword !== 'if').slice(0, MAX_REPORTED_ERRORS).map((e) => {
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    const child = params.missingProperty ?? params.additionalProperty;
    const token = child?.replaceAll('~', '~0').replaceAll('/', '~1');
    return { path: token === undefined ? e.instancePath || '/' : `${e.instancePath}/${token}`, message: e.message ?? 'is invalid' };
  });
}
