import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const GATEWAY_BIN = fileURLToPath(new URL('../../bin/ws-mqtt-gateway.js', import.meta.url));
export const SIM_BIN = fileURLToPath(new URL('../../bin/device-sim.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI (the gateway's unless `bin` says otherwise) as a separate process, as a user would. */
export function runCli(args: string[], options: { bin?: string; stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [options.bin ?? GATEWAY_BIN, ...args], { env: { ...process.env, ...options.env } });
  child.stdin.end(options.stdin ?? '');
  return collect(child);
}

export function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export interface GatewayAddresses {
  ws: string;
  mqtt: string;
  http: string;
}

export interface GatewayProcess {
  child: ChildProcess;
  addresses: GatewayAddresses;
  stderr(): string;
  /** SIGTERM, then wait for the exit (at once if it has already exited). */
  stop(): Promise<void>;
}

/** Starts `ws-mqtt-gateway start --json` (with --dev unless told otherwise) on ephemeral ports and resolves with its address line. */
export async function spawnGateway(dataDir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, { dev = true } = {}): Promise<GatewayProcess> {
  const args = ['start', ...(dev ? ['--dev'] : []), '--json', '--data-dir', dataDir, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0', ...extra];
  const child = spawn(process.execPath, [GATEWAY_BIN, ...args], { env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${stderr}`)));
  });
  return { child, addresses: JSON.parse(line) as GatewayAddresses, stderr: () => stderr, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}
