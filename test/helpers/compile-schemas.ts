import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { listModelNames, SHIPPED_MODELS_DIR } from '../../gateway/models/load-models.js';

/** ajv validators for each model's shipped schema of one kind (telemetry, state). */
export function compileSchemas(kind: 'telemetry' | 'state'): Map<string, ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>();
  for (const model of listModelNames(SHIPPED_MODELS_DIR)) {
    const schema = JSON.parse(readFileSync(join(SHIPPED_MODELS_DIR, model, `${kind}.schema.json`), 'utf8')) as object;
    validators.set(model, ajv.compile(schema));
  }
  return validators;
}
