import type { GatewayConfig } from '../config.js';
import { openStore, type Store } from '../store/open-store.js';
import { exitOnError } from './output.js';
import { resolveConfig, type CommonFlags } from './resolve-config.js';

/** Runs a registry subcommand against the configured data dir; config and store errors end the process. */
export async function withStore(flags: CommonFlags, action: (store: Store, config: Readonly<GatewayConfig>) => void | Promise<void>): Promise<void> {
  try {
    const config = resolveConfig(flags);
    const store = openStore(config.dataDir);
    try {
      await action(store, config);
    } finally {
      store.close();
    }
  } catch (err) {
    exitOnError(err);
  }
}
