import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { ConfigError } from './errors.js';
import type { LogLevel } from './log.js';

export interface GatewayConfig {
  dataDir: string;
  dev: boolean;
  log: { level: LogLevel };
  ws: { host: string; port: number; backlog: number; tlsOffload: boolean };
  mqtt: { host: string; port: number; tlsPort: number | null; topicRoot: string; maxSessionQueue: number; sessionExpiryMs: number };
  http: { host: string; port: number };
  tls: { cert?: string; key?: string };
  auth: { timeoutMs: number };
  devices: { sessionPolicy: 'takeover' | 'multi'; heartbeatMs: number };
  limits: { maxFrameBytes: number; messagesPerSec: number; burst: number; maxInFlight: number };
  models: { dir?: string };
  commands: { defaultTtlMs: number; maxTtlMs: number; resultTimeoutMs: number; maxQueuePerDevice: number; startupReportDelayMs: number };
}

export const CONFIG_SCHEMA_FILE = fileURLToPath(new URL('../../schemas/config.schema.json', import.meta.url));
export const configSchema = JSON.parse(readFileSync(CONFIG_SCHEMA_FILE, 'utf8')) as Record<string, unknown>;

const checkConfig = new Ajv({ allErrors: true, useDefaults: true, strict: true }).compile<GatewayConfig>(configSchema);

/** Validates merged config once, at startup, filling defaults; messages name the bad key. */
export function loadConfig(raw: unknown, source: string): Readonly<GatewayConfig> {
  const config = structuredClone(raw ?? {});
  if (!checkConfig(config)) {
    const lines = (checkConfig.errors ?? []).map((e) => {
      const params = e.params as { additionalProperty?: string };
      const key = `${e.instancePath.slice(1).replaceAll('/', '.')}${params.additionalProperty ? `${e.instancePath ? '.' : ''}${params.additionalProperty}` : ''}`;
      return `  ${key || '(root)'}: ${e.message}`;
    });
    throw new ConfigError(`Invalid config (${source}):\n${lines.join('\n')}`);
  }
  if (config.commands.defaultTtlMs > config.commands.maxTtlMs) {
    throw new ConfigError(`Invalid config (${source}): commands.defaultTtlMs must not exceed commands.maxTtlMs`);
  }
  if ((config.tls.cert === undefined) !== (config.tls.key === undefined)) {
    throw new ConfigError(`Invalid config (${source}): tls.cert and tls.key go together; set both or neither`);
  }
  return deepFreeze(config);
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) deepFreeze(child);
  return Object.freeze(value);
}
