import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHIPPED_MODELS_DIR, listModelNames } from '../../gateway/models/load-models.js';
import { DeviceRegistry } from '../../gateway/registry/devices.js';
import { SqliteDeviceRows } from '../../gateway/registry/sqlite-device-rows.js';
import { SqliteUserRows } from '../../gateway/registry/sqlite-user-rows.js';
import { UserRegistry } from '../../gateway/registry/users.js';
import { openStore } from '../../gateway/store/open-store.js';
import { DEV_CERT_FILE } from '../../gateway/tls/load-certificate.js';
import type { BenchDevice, MqttEndpoint } from '../load/task.js';
import { REPO_ROOT } from '../paths.js';
import { deviceIds, type Peer, type ScenarioName } from './peer.js';
import { firstJsonLine, spawnServer, stopProcess } from './process.js';

export const BENCH_BACKEND: Required<Omit<MqttEndpoint, 'url'>> = { username: 'bench', password: 'bench-password' };

/**
 * Saturation needs the per-device rate limit raised (default 100/s, burst 200): 200 devices
 * at 40k msg/s is 200/s each. It is a config knob; refusals still count as rate_limited.
 * Capacity and overload offer past 20k msg/s (100/s each) too, so they raise it the same way.
 */
export const SATURATION_LIMITS = { WMG_LIMITS_MESSAGES_PER_SEC: '100000', WMG_LIMITS_BURST: '1000' };
export const RAISED_LIMITS_IN: readonly ScenarioName[] = ['saturation', 'saturation-durable', 'cluster', 'capacity', 'overload'];

/**
 * The storm connects 5,000 devices at once: past `limits.maxPendingHandshakes` (1000) a
 * socket mid-handshake is destroyed on arrival, by design (docs/reliability.md), and the
 * bench's devices do not retry as the SDK's do. The storm measures handshake throughput,
 * so it lifts that bound to the fleet's size.
 */
export const STORM_LIMITS = { WMG_LIMITS_MAX_PENDING_HANDSHAKES: '5000' };

export function envFor(scenario: ScenarioName): Record<string, string> {
  return { WMG_LOG_LEVEL: 'error', ...(RAISED_LIMITS_IN.includes(scenario) ? SATURATION_LIMITS : {}), ...(scenario === 'storm' ? STORM_LIMITS : {}) };
}

/**
 * Our gateway as users run it: the CLI in its own process, WSS with the --dev certificate;
 * or, `offload`, with --tls-offload as behind a TLS-terminating proxy (devices on plain ws,
 * the way every other peer here is measured). The proxy itself is not part of the run.
 * --quick keeps the offloaded run to memory, the figure it is there for.
 */
export function gatewayPeer(offload = false): Peer & { cleanup(): void } {
  let dataDir: string | undefined;
  let provisioned: BenchDevice[] = [];

  async function provision(count: number): Promise<BenchDevice[]> {
    dataDir ??= mkdtempSync(join(tmpdir(), 'bench-gateway-'));
    if (provisioned.length >= count) return provisioned.slice(0, count);
    const store = openStore(dataDir);
    try {
      const registry = new DeviceRegistry(new SqliteDeviceRows(store), listModelNames(SHIPPED_MODELS_DIR));
      if (provisioned.length === 0) {
        const user = await new UserRegistry(new SqliteUserRows(store)).add(BENCH_BACKEND.username, BENCH_BACKEND.password, ['devices/+/commands'], ['devices/#']);
        if (!user.ok) throw new Error(`bench user: ${user.error.code}`);
      }
      const more = deviceIds(count).slice(provisioned.length);
      // One transaction for thousands of rows; the SQLite rows settle synchronously underneath.
      store.exec('BEGIN');
      for (const { id } of more) {
        const issued = await registry.add(id, 'env-sensor');
        if (!issued.ok) throw new Error(`provision ${id}: ${issued.error.code}`);
        provisioned.push({ id, token: issued.value.token });
      }
      store.exec('COMMIT');
    } finally {
      store.close();
    }
    return provisioned.slice(0, count);
  }

  return {
    name: offload ? 'ours-offload' : 'ours',
    label: offload ? 'ws-mqtt-gateway, --tls-offload (TLS at a proxy)' : 'ws-mqtt-gateway (this repo), WSS/TLS',
    transport: offload ? 'ws' : 'WSS (TLS)',
    scenarios: offload ? ['saturation', 'fixed-rate', 'capacity', 'overload', 'memory'] : ['saturation', 'saturation-durable', 'fixed-rate', 'capacity', 'overload', 'memory', 'commands', 'storm', 'cluster'],
    fullOnly: offload ? ['saturation', 'fixed-rate', 'capacity', 'overload'] : ['cluster'],
    unavailable: () => undefined,
    async start({ devices, scenario }) {
      const bench = await provision(devices);
      const child = spawnServer(
        process.execPath,
        [
          // e.g. BENCH_GATEWAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway alone
          ...(process.env.BENCH_GATEWAY_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          join(REPO_ROOT, 'dist', 'bin', 'ws-mqtt-gateway.js'), 'start', offload ? '--tls-offload' : '--dev', '--json', '--data-dir', dataDir!, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0'],
        envFor(scenario),
      );
      const addresses = await firstJsonLine<{ ws: string; mqtt: string }>(child);
      const backend = { url: addresses.mqtt, ...BENCH_BACKEND };
      const ca = offload ? undefined : readFileSync(join(dataDir!, DEV_CERT_FILE), 'utf8');
      return {
        target: { driver: 'gateway', deviceUrl: addresses.ws, ca, devices: bench, subscriber: backend },
        backend,
        pid: child.pid!,
        stop: () => stopProcess(child),
      };
    },
    cleanup() {
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
