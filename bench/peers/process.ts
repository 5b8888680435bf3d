import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** Core the systems under test run on; the orchestrator and load generator take the other one. */
export const SERVER_CORE = 0;
export const LOAD_CORE = 1;

export const hasTaskset = (): boolean => spawnSync('taskset', ['-V']).status === 0;

/** Starts a server process, pinned to SERVER_CORE when taskset exists. */
export function spawnServer(command: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): ChildProcess {
  const [cmd, argv] = hasTaskset() ? ['taskset', ['-c', String(SERVER_CORE), command, ...args]] : [command, args];
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd });
  if (process.env.BENCH_VERBOSE) {
    const name = args[0]?.split('/').pop() ?? command;
    child.stdout!.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk}`));
  } else {
    child.stderr!.resume();
  }
  return child;
}

/** Resolves with the first stdout line that parses as JSON (servers announce their addresses that way). */
export function firstJsonLine<T>(child: ChildProcess, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`no address line within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before announcing its address`)));
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as T);
    });
  });
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) : NaN;
}

/** User + system CPU seconds a process has used (Linux /proc; NaN elsewhere). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 Hz on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** A free TCP port, for servers that cannot listen on port 0 and report it (Mosquitto). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function which(command: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
