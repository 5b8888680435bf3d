import { loadConfig, type GatewayConfig } from '../config.js';
import { configFromEnv, mergeConfig, readConfigFile } from '../config-sources.js';

/** Flags every subcommand takes. */
export interface CommonFlags {
  config?: string;
  dataDir?: string;
}

/** Config file < WMG_* env vars < flags, validated once. */
export function resolveConfig(flags: CommonFlags, overrides: Record<string, unknown> = {}): Readonly<GatewayConfig> {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const fromFlags = mergeConfig(overrides, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir });
  const sources = [flags.config && `file ${flags.config}`, 'environment', 'flags'].filter(Boolean).join(' < ');
  return loadConfig(mergeConfig(file, configFromEnv(process.env), fromFlags), sources);
}
