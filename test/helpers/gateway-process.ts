import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const GATEWAY_BIN = fileURLToPath(new URL('../../bin/ws-mqtt-gateway.js', import.meta.url));
export const SIM_BIN = fileURLToPath(new URL('../../bin/device-sim.js', import.meta.url));

export interface GatewayAddresses {
  ws: string;
  mqtt: string;
  http: string;
}

export interface GatewayProcess {
  addresses: GatewayAddresses;
  /** SIGTERM, then wait for the clean exit. */
  stop(): Promise<void>;
}

/**
 * The real gateway CLI as a child process, on ephemeral ports unless given
 * (a restart passes the old ports so devices find it again).
 */
export async function startGatewayProcess(dataDir: string, ports: { ws?: number; mqtt?: number } = {}): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    [GATEWAY_BIN, 'start', '--dev', '--data-dir', dataDir, '--ws-port', String(ports.ws ?? 0), '--mqtt-port', String(ports.mqtt ?? 0), '--http-port', '0', '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error(`gateway exited before listening:\n${stderr}`);
    }),
  ])) as [string];
  const addresses = JSON.parse(first) as GatewayAddresses;
  return { addresses, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Runs a CLI to completion: stdout, stderr and exit code. */
export async function runCli(bin: string, args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin ?? '');
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** Adds an MQTT user that may read everything under devices/ and gateway/, and publish commands. */
export async function addWatcher(dataDir: string, name: string, password: string): Promise<void> {
  const result = await runCli(
    GATEWAY_BIN,
    ['users', 'add', name, '--password-stdin', '--allow-sub', 'devices/#', '--allow-sub', 'gateway/#', '--allow-pub', 'devices/+/commands', '--data-dir', dataDir],
    password,
  );
  if (result.code !== 0) throw new Error(`users add failed: ${result.stderr}`);
}
