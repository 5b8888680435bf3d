import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ConfigError, fail, ok, type PathError, type Result } from '../errors.js';
import type { ModelSchemas } from '../models/load-models.js';
import { pathErrors } from '../device/validate.js';
import type { JsonObject } from './twin-store.js';

// ajv-formats ships CommonJS with its function on `default`.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** A backend's publish on {root}/{device}/desired/set, checked against the envelope. */
export interface DesiredPatch {
  state: JsonObject;
  version?: number;
}

export interface DesiredValidators {
  patch: ValidateFunction<DesiredPatch>;
  /** The merged desired state, per model. */
  models: ReadonlyMap<string, ValidateFunction>;
}

// A model without desired.schema.json has a twin that can hold nothing: every key is refused with its path.
const NO_DESIRED_STATE = { type: 'object', properties: {}, additionalProperties: false } as const;

const PATCH_SCHEMA = {
  type: 'object',
  properties: {
    // null values are deletions; the merged state is checked against the model afterwards.
    state: { type: 'object' },
    version: { type: 'integer', minimum: 0 },
  },
  required: ['state'],
  additionalProperties: false,
} as const;

export function compileDesiredValidators(models: readonly ModelSchemas[]): DesiredValidators {
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  const compiled = new Map<string, ValidateFunction>();
  for (const model of models) {
    try {
      compiled.set(model.name, ajv.compile(model.desired ?? NO_DESIRED_STATE));
    } catch (err) {
      throw new ConfigError(`desired.schema.json of model ${model.name} does not compile: ${(err as Error).message}`);
    }
  }
  return { patch: ajv.compile<DesiredPatch>(PATCH_SCHEMA), models: compiled };
}

export function parseDesiredPatch(validators: DesiredValidators, payload: Buffer): Result<DesiredPatch> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return fail('invalid_desired', [{ path: '/', message: 'is not valid JSON' }]);
  }
  if (!validators.patch(value)) return fail('invalid_desired', pathErrors(validators.patch.errors));
  return ok(value);
}

/** Paths point into the patch envelope (/state/key), where the backend wrote the key. */
export function checkDesired(validators: DesiredValidators, model: string, desired: JsonObject): PathError[] | undefined {
  const validate = validators.models.get(model)!;
  if (validate(desired)) return undefined;
  return pathErrors(validate.errors).map((e) => ({ path: e.path === '/' ? '/state' : `/state${e.path}`, message: e.message }));
}
