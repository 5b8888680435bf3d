import { Ajv, type ValidateFunction } from 'ajv';
import { ConfigError, fail, ok, type Result } from '../errors.js';
import type { ModelSchemas } from '../models/load-models.js';
import { pathErrors } from '../device/validate.js';

/** A command id becomes a topic level (…/commands/{id}/status): no '/', '+' or '#'. */
export const COMMAND_ID = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';

export interface CommandRequest {
  id?: string;
  name: string;
  params: Record<string, unknown>;
  ttlMs?: number;
}

export interface CommandResult {
  type: 'command_result';
  id: string;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: string; message?: string };
}

export interface CommandValidators {
  request: ValidateFunction<CommandRequest>;
  result: ValidateFunction<CommandResult>;
  /** Per model: name + params against schemas/models/<model>/commands.schema.json. */
  models: Map<string, ValidateFunction>;
}

/** What a backend publishes on {root}/{device}/commands, before the model's own check (also the AsyncAPI payload). */
export const commandRequestSchema = (maxTtlMs: number) => ({
  type: 'object',
  properties: {
    id: { type: 'string', pattern: COMMAND_ID },
    name: { type: 'string', minLength: 1, maxLength: 64 },
    params: { type: 'object' },
    ttlMs: { type: 'integer', minimum: 1, maximum: maxTtlMs },
  },
  required: ['name'],
  additionalProperties: false,
});

/** The device's command_result frame. */
export const COMMAND_RESULT_SCHEMA = {
  type: 'object',
  properties: {
    type: { const: 'command_result' },
    id: { type: 'string', minLength: 1, maxLength: 128 },
    ok: { type: 'boolean' },
    result: { type: 'object' },
    error: {
      type: 'object',
      properties: { code: { type: 'string', minLength: 1, maxLength: 64 }, message: { type: 'string', maxLength: 1024 } },
      required: ['code'],
      additionalProperties: false,
    },
  },
  required: ['type', 'id', 'ok'],
  if: { properties: { ok: { const: false } }, required: ['ok'] },
  then: { properties: { error: { type: 'object' } }, required: ['error'] },
  additionalProperties: false,
};

export function compileCommandValidators(models: readonly ModelSchemas[], maxTtlMs: number): CommandValidators {
  const ajv = new Ajv({ strict: true, allErrors: true });
  const validators: CommandValidators = {
    request: ajv.compile<CommandRequest>(commandRequestSchema(maxTtlMs)),
    result: ajv.compile<CommandResult>(COMMAND_RESULT_SCHEMA),
    models: new Map(),
  };
  for (const model of models) {
    if (!model.commands) continue;
    try {
      validators.models.set(model.name, ajv.compile(model.commands));
    } catch (err) {
      throw new ConfigError(`Command schema of model ${model.name} does not compile: ${(err as Error).message}`);
    }
  }
  return validators;
}

/** Backend payload -> checked command for a device of `model`. */
export function validateCommand(validators: CommandValidators, model: string, payload: Buffer): Result<CommandRequest> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return fail('invalid_command', [{ path: '/', message: 'must be valid JSON' }]);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('params' in value)) {
    (value as Record<string, unknown>).params = {}; // `{"name":"ping"}` needs no empty params
  }
  if (!validators.request(value)) return fail('invalid_command', pathErrors(validators.request.errors));
  const modelCheck = validators.models.get(model);
  if (!modelCheck) return fail('invalid_command', [{ path: '/name', message: `model ${model} accepts no commands` }]);
  if (!modelCheck({ name: value.name, params: value.params })) return fail('invalid_command', pathErrors(modelCheck.errors));
  return ok(value);
}
