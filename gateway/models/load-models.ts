import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

/** The schemas shipped with the package: dist/gateway/models -> <package>/schemas/models. */
export const SHIPPED_MODELS_DIR = fileURLToPath(new URL('../../../schemas/models/', import.meta.url));

export interface ModelSchemas {
  name: string;
  telemetry: object;
  state: object;
  /** Present once the model declares commands (schemas/models/<name>/commands.schema.json). */
  commands?: object;
  /** Present once the model declares a twin (desired.schema.json); without one, desired state must stay empty. */
  desired?: object;
}

// A model is a folder of schema files: adding a device model never needs code.
export function listModelNames(dir: string): string[] {
  if (!existsSync(dir)) throw new ConfigError(`models.dir ${dir} does not exist`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'telemetry.schema.json')))
    .map((entry) => entry.name)
    .sort();
}

export function loadModels(dir: string): ModelSchemas[] {
  return listModelNames(dir).map((name) => {
    const model: ModelSchemas = {
      name,
      telemetry: readSchema(dir, name, 'telemetry'),
      state: readSchema(dir, name, 'state'),
    };
    if (existsSync(join(dir, name, 'commands.schema.json'))) model.commands = readSchema(dir, name, 'commands');
    if (existsSync(join(dir, name, 'desired.schema.json'))) model.desired = readSchema(dir, name, 'desired');
    return model;
  });
}

function readSchema(dir: string, model: string, kind: string): object {
  const file = join(dir, model, `${kind}.schema.json`);
  if (!existsSync(file)) throw new ConfigError(`Model ${model} has no ${kind} schema: ${file} is missing`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as object;
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}
