import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema } from './config.js';
import { ConfigError } from './errors.js';

type Plain = Record<string, unknown>;

/** Reads a JSON or YAML config file (by extension; .yml/.yaml are YAML). */
export function readConfigFile(file: string): Plain {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const value: unknown = ['.yml', '.yaml'].includes(extname(file)) ? parseYaml(text) : JSON.parse(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('top level must be an object');
    return value as Plain;
  } catch (err) {
    throw new ConfigError(`Config file ${file} does not parse: ${(err as Error).message}`);
  }
}

const ENV_PREFIX = 'WMG_';

interface Leaf {
  path: string[];
  types: string[];
}

// Every leaf key of the config schema has one env var: devices.heartbeatMs is
// WMG_DEVICES_HEARTBEAT_MS. Derived from the schema so a new key needs no code here.
function leaves(schema: Plain, path: string[] = []): Leaf[] {
  const properties = schema.properties as Record<string, Plain> | undefined;
  if (schema.type === 'object' && properties) {
    return Object.entries(properties).flatMap(([key, child]) => leaves(child, [...path, key]));
  }
  // Enums in this schema are all strings.
  const type = schema.type ?? 'string';
  return [{ path, types: Array.isArray(type) ? (type as string[]) : [type as string] }];
}

const envName = (path: string[]): string =>
  ENV_PREFIX + path.map((key) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');

const ENV_KEYS = new Map(leaves(configSchema).map((leaf) => [envName(leaf.path), leaf]));

/** Config from WMG_* environment variables; an unknown WMG_ name is an error, not ignored. */
export function configFromEnv(env: NodeJS.ProcessEnv): Plain {
  const config: Plain = {};
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || text === undefined) continue;
    const leaf = ENV_KEYS.get(name);
    if (!leaf) {
      throw new ConfigError(`Unknown environment variable ${name}; known: ${[...ENV_KEYS.keys()].join(', ')}`);
    }
    setPath(config, leaf.path, parseEnvValue(name, text, leaf.types));
  }
  return config;
}

function parseEnvValue(name: string, text: string, types: string[]): unknown {
  if (types.includes('null') && text === 'null') return null;
  if (types.includes('integer') || types.includes('number')) {
    const value = Number(text);
    if (text.trim() === '' || Number.isNaN(value)) throw new ConfigError(`${name}=${text} is not a number`);
    return value;
  }
  // Arrays (auth.jwt.algorithms) are comma-separated: WMG_AUTH_JWT_ALGORITHMS=ES256,RS256.
  if (types.includes('array')) return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (types.includes('boolean')) {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw new ConfigError(`${name}=${text} is not a boolean (true/false)`);
  }
  return text;
}

function setPath(target: Plain, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Plain;
  }
  node[path[path.length - 1]!] = value;
}

/** Later sources win key by key: file < env < flags. */
export function mergeConfig(...sources: Plain[]): Plain {
  const merged: Plain = {};
  for (const source of sources) mergeInto(merged, source);
  return merged;
}

function mergeInto(target: Plain, source: Plain): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const existing = target[key];
    if (isPlain(value) && isPlain(existing)) mergeInto(existing, value);
    else target[key] = isPlain(value) ? mergeConfig(value) : value;
  }
}

const isPlain = (value: unknown): value is Plain => typeof value === 'object' && value !== null && !Array.isArray(value);
