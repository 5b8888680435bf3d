import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../gateway/config.js';
import { mergeConfig } from '../../gateway/config-sources.js';
import { createLogger } from '../../gateway/log.js';
import { SHIPPED_MODELS_DIR, listModelNames } from '../../gateway/models/load-models.js';
import { DeviceRegistry } from '../../gateway/registry/devices.js';
import { UserRegistry } from '../../gateway/registry/users.js';
import { SqliteDeviceRows } from '../../gateway/registry/sqlite-device-rows.js';
import { SqliteUserRows } from '../../gateway/registry/sqlite-user-rows.js';
import { startGateway, type Gateway } from '../../gateway/server.js';
import { DEV_CERT_FILE } from '../../gateway/tls/load-certificate.js';
import { openStore, type Store } from '../../gateway/store/open-store.js';

export interface TestGateway extends Gateway {
  dataDir: string;
  /** Stops the gateway but keeps its data dir, for a restart on it; close() still removes it. */
  stop(): Promise<void>;
  /** The dev certificate, so test clients verify TLS instead of switching it off (empty if nothing serves TLS). */
  ca: Buffer;
  /** A second handle on the registry, as the CLI would open it. */
  devices: DeviceRegistry;
  users: UserRegistry;
  store: Store;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'wmg-test-'));
}

/** A real gateway on ephemeral ports with its own data dir and dev certificate; `logLine` receives its log. */
export async function startTestGateway(overrides: Record<string, unknown> = {}, dataDir = tempDataDir(), logLine?: (line: string) => void): Promise<TestGateway> {
  const config = loadConfig(
    mergeConfig(
      { dataDir, dev: true, ws: { port: 0 }, mqtt: { port: 0 }, http: { port: 0 }, log: { level: 'error' }, commands: { startupReportDelayMs: 0 } },
      overrides,
    ),
    'test',
  );
  const gateway = await startGateway(config, createLogger(config.log.level, logLine));
  const store = openStore(dataDir);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= gateway.close().then(() => void store.close()));
  return {
    ...gateway,
    stop,
    dataDir,
    ca: existsSync(join(dataDir, DEV_CERT_FILE)) ? readFileSync(join(dataDir, DEV_CERT_FILE)) : Buffer.alloc(0),
    devices: new DeviceRegistry(new SqliteDeviceRows(store), listModelNames(SHIPPED_MODELS_DIR)),
    users: new UserRegistry(new SqliteUserRows(store)),
    store,
    async close() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Provisions a device and returns its token. */
export async function provision(gw: TestGateway, device: string, model = 'env-sensor'): Promise<string> {
  const result = await gw.devices.add(device, model);
  if (!result.ok) throw new Error(`provision ${device}: ${result.error.code}`);
  return result.value.token;
}
