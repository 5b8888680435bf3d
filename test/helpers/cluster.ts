import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import { DEV_CERT_FILE } from '../../gateway/tls/load-certificate.js';
import { connectTestBackend, type TestBackend } from './backend.js';
import { runCli, spawnGateway, type CliResult, type GatewayProcess } from './cli.js';
import { tempDataDir } from './gateway.js';
import { startRedis, type RedisProcess } from './redis-server.js';

export interface ClusterNode extends GatewayProcess {
  ca: Buffer;
}

export interface TestCluster {
  redis: RedisProcess;
  nodes: ClusterNode[];
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Starts one more node on the same Redis. */
  addNode(): Promise<ClusterNode>;
  /** The CLI against the cluster's Redis. */
  cli(args: string[], stdin?: string): Promise<CliResult>;
  /** Provisions a device through the CLI and returns its token. */
  provision(device: string, model?: string): Promise<string>;
  /** Adds a backend user through the CLI and connects it to `node` (any mqtt.js options on top). */
  backend(node: ClusterNode, name: string, options?: IClientOptions, acl?: { pub?: string[]; sub?: string[] }): Promise<TestBackend>;
}

/** A real redis-server and `count` gateway processes (`start --json`) sharing it, stopped by `t.after`. */
export async function startCluster(t: { after(fn: () => unknown): void }, count: number, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Promise<TestCluster> {
  const nodes: ClusterNode[] = [];
  // Hooks run in the order they were added: nodes stop before their Redis does.
  t.after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });
  const dataDir = tempDataDir();
  const redis = await startRedis(t);
  const clusterEnv = { WMG_CLUSTER_REDIS: redis.url, WMG_COMMANDS_STARTUP_REPORT_DELAY_MS: '0', ...env };
  const users = new Set<string>();
  const cluster: TestCluster = {
    redis,
    nodes,
    env: clusterEnv,
    dataDir,
    async addNode() {
      const process = await spawnGateway(dataDir, extra, clusterEnv);
      const node = { ...process, ca: readFileSync(join(dataDir, DEV_CERT_FILE)) };
      nodes.push(node);
      return node;
    },
    cli: (args, stdin) => runCli([...args, '--data-dir', dataDir], { env: clusterEnv, stdin }),
    async provision(device, model = 'env-sensor') {
      const added = await cluster.cli(['devices', 'add', device, '--model', model, '--json']);
      if (added.code !== 0) throw new Error(`devices add ${device}: ${added.stdout}${added.stderr}`);
      return (JSON.parse(added.stdout) as { token: string }).token;
    },
    async backend(node, name, options = {}, acl = { sub: ['#'], pub: ['devices/+/commands'] }) {
      if (!users.has(name)) {
        const flags = [...(acl.pub ?? []).flatMap((p) => ['--allow-pub', p]), ...(acl.sub ?? []).flatMap((s) => ['--allow-sub', s])];
        const added = await cluster.cli(['users', 'add', name, '--password-stdin', ...flags], `pw-${name}`);
        if (added.code !== 0) throw new Error(`users add ${name}: ${added.stderr}`);
        users.add(name);
      }
      return connectTestBackend(node.addresses.mqtt, { username: name, password: `pw-${name}`, ...options });
    },
  };
  for (let i = 0; i < count; i++) await cluster.addNode();
  return cluster;
}
