import { closeRedis, connectRedis } from '../cluster/connect-redis.js';
import { RedisDeviceRows } from '../cluster/redis-device-rows.js';
import { RedisUserRows } from '../cluster/redis-user-rows.js';
import type { GatewayConfig } from '../config.js';
import { createLogger } from '../log.js';
import { listModelNames, SHIPPED_MODELS_DIR } from '../models/load-models.js';
import { DeviceRegistry } from '../registry/devices.js';
import { SqliteDeviceRows } from '../registry/sqlite-device-rows.js';
import { SqliteUserRows } from '../registry/sqlite-user-rows.js';
import { UserRegistry } from '../registry/users.js';
import { openStore } from '../store/open-store.js';
import { exitOnError } from './output.js';
import { resolveConfig, type CommonFlags } from './resolve-config.js';

export interface Registries {
  devices: DeviceRegistry;
  users: UserRegistry;
}

/**
 * Runs a registry subcommand against the registries the gateway with the same config
 * uses (the data dir's store, or the cluster's Redis); config and store errors end the process.
 */
export async function withRegistries(flags: CommonFlags, action: (registries: Registries, config: Readonly<GatewayConfig>) => Promise<void>): Promise<void> {
  try {
    const config = resolveConfig(flags);
    const models = listModelNames(config.models.dir ?? SHIPPED_MODELS_DIR);
    if (config.cluster.redis) {
      const redis = await connectRedis(config.cluster.redis, createLogger('error'));
      try {
        await action({ devices: new DeviceRegistry(new RedisDeviceRows(redis), models), users: new UserRegistry(new RedisUserRows(redis)) }, config);
      } finally {
        await closeRedis(redis);
      }
      return;
    }
    const store = openStore(config.dataDir);
    try {
      await action({ devices: new DeviceRegistry(new SqliteDeviceRows(store), models), users: new UserRegistry(new SqliteUserRows(store)) }, config);
    } finally {
      store.close();
    }
  } catch (err) {
    exitOnError(err);
  }
}
