import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = 'redis-server';
const available = spawnSync(BINARY, ['--version']).status === 0;

/**
 * `skip` option for tests that need a real redis-server: locally a machine without one
 * skips with the reason; under CI=true the test runs and fails on the missing binary.
 */
export const skipWithoutRedis: string | false =
  !available && process.env.CI !== 'true' ? 'redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)' : false;

export interface RedisProcess {
  url: string;
  port: number;
  /** kill -9 (a crash), or SIGTERM when `graceful`; resolves once the process is gone. */
  stop(graceful?: boolean): Promise<void>;
  /** Starts it again on the same port and data dir (AOF on, so what it had acked is back). */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A real redis-server on a free loopback port with its own data dir; stopped by `t.after`. */
export async function startRedis(t: { after(fn: () => unknown): void }): Promise<RedisProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wmg-redis-'));
  let child: ChildProcess | undefined;
  const launch = async () => {
    const started = spawn(BINARY, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    let output = '';
    started.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(output)) {
      if (started.exitCode !== null) throw new Error(`redis-server exited ${started.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server not ready within 10 s: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const stop = async (graceful = false) => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = once(running, 'exit');
    running.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    await exited;
  };
  await launch();
  t.after(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `redis://127.0.0.1:${port}`, port, stop, restart: launch };
}
