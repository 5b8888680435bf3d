import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import { REDIS_BUS_LIMITS } from './peers/gateway-cluster.js';
import { cpuSeconds, firstJsonLine, freePort, spawnServer, stopProcess, which } from './peers/process.js';

/**
 * What Aedes' Redis bus costs per message before the gateway does anything: a client
 * publishes bus messages (MessagePack, as mqemitter-redis writes them) to a real
 * redis-server and receives them back on a subscriber, `window` in flight, as a node does
 * with its own readings. Both processes are pinned to the server core like the bench's
 * systems. `node dist/bench/redis-bus-floor.js` prints one JSON line per way of writing:
 * ioredis' auto-pipelining (what the gateway's bus uses) and the socket corked per
 * event-loop turn instead. docs/scale-out.md compares it with the cluster figures.
 */
const MESSAGES = 200_000;
const WINDOW = 256;
const MODES = ['auto-pipelining', 'corked'] as const;
type Mode = (typeof MODES)[number];

if (process.argv[2] === 'measure') {
  await measure(Number(process.argv[3]), process.argv[4] as Mode);
} else {
  await main();
}

async function main(): Promise<void> {
  const redisServer = which('redis-server');
  if (!redisServer) throw new Error('redis-server not installed (apt-get install redis-server)');
  for (const mode of MODES) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-bus-floor-'));
    const port = await freePort();
    const redis = spawnServer(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...REDIS_BUS_LIMITS]);
    try {
      const child = spawnServer(process.execPath, [fileURLToPath(import.meta.url), 'measure', String(port), mode]);
      const redisBefore = cpuSeconds(redis.pid!);
      const result = await firstJsonLine<{ clientCpuUsPerMessage: number }>(child, 120_000);
      const redisUs = ((cpuSeconds(redis.pid!) - redisBefore) * 1e6) / MESSAGES;
      await stopProcess(child);
      const redisCpuUsPerMessage = round(redisUs);
      console.log(JSON.stringify({ ...result, redisCpuUsPerMessage, totalCpuUsPerMessage: round(result.clientCpuUsPerMessage + redisUs) }));
    } finally {
      await stopProcess(redis);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function measure(port: number, mode: Mode): Promise<void> {
  const pub = new Redis({ port, enableAutoPipelining: mode === 'auto-pipelining' });
  const sub = new Redis({ port });
  const packr = new Packr({ useRecords: false });
  const topic = 'devices/bench-000001/telemetry';
  // The size of what the gateway publishes for a bench reading.
  const payload = Buffer.alloc(169, 0x61);
  await sub.subscribe(topic);
  let sent = 0;
  let received = 0;
  let corked = false;
  const publishOne = () => {
    if (mode === 'corked' && !corked) {
      corked = true;
      pub.stream.cork();
      setImmediate(() => {
        corked = false;
        pub.stream.uncork();
      });
    }
    const id = `floor-${++sent}`;
    pub.publish(topic, packr.pack({ id, msg: { cmd: 'publish', topic, payload, qos: 1, retain: false, messageId: sent & 0xffff } })).catch((err: Error) => {
      console.error(err);
      process.exit(1);
    });
  };
  const started = process.cpuUsage();
  const startedAt = performance.now();
  await new Promise<void>((resolve) => {
    sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
      packr.unpack(message);
      received++;
      if (received === MESSAGES) resolve();
      else if (sent < MESSAGES) publishOne();
    });
    while (sent < WINDOW) publishOne();
  });
  const cpu = process.cpuUsage(started);
  const seconds = (performance.now() - startedAt) / 1000;
  console.log(
    JSON.stringify({ mode, messages: MESSAGES, window: WINDOW, msgPerSec: Math.round(MESSAGES / seconds), clientCpuUsPerMessage: round((cpu.user + cpu.system) / MESSAGES) }),
  );
  pub.disconnect();
  sub.disconnect();
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
