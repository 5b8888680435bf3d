// Load check for the README's performance notes: a local gateway and one
// device-sim process with N devices at 1 msg/s, sampling the CPU and memory of
// both from /proc every 10 s (Linux only).
//   node dist/bench/device-sim-fleet.js [devices=5000] [seconds=120]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const devices = Number(process.argv[2] ?? 5000);
const seconds = Number(process.argv[3] ?? 120);
const bin = (name: string): string => fileURLToPath(new URL(`../bin/${name}.js`, import.meta.url));
const TICKS = 100; // USER_HZ

function usage(pid: number): { cpuTicks: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const rssPages = Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
  return { cpuTicks: Number(stat[11]) + Number(stat[12]), rssMb: Math.round((rssPages * 4096) / 2 ** 20) };
}

const dir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
const dataDir = join(dir, 'data');
const tokens = join(dir, 'tokens.json');
await once(spawn(process.execPath, [bin('device-sim'), 'provision', '--count', String(devices), '--data-dir', dataDir, '--out', tokens], { stdio: 'inherit' }), 'exit');
const gateway = spawn(process.execPath, [bin('ws-mqtt-gateway'), 'start', '--dev', '--data-dir', dataDir, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
const [line] = (await once(createInterface({ input: gateway.stdout! }), 'line')) as [string];
const { ws } = JSON.parse(line) as { ws: string };
const sim = spawn(process.execPath, [bin('device-sim'), 'run', '--url', ws, '--tokens', tokens, '--rate', '1/s', '--duration', `${seconds}s`, '--insecure', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
let summary = '';
sim.stdout!.on('data', (chunk: Buffer) => (summary += chunk.toString()));

let previous = { sim: usage(sim.pid!), gateway: usage(gateway.pid!), at: Date.now() };
const timer = setInterval(() => {
  const now = { sim: usage(sim.pid!), gateway: usage(gateway.pid!), at: Date.now() };
  const pct = (a: number, b: number): string => `${Math.round(((b - a) / TICKS / ((now.at - previous.at) / 1000)) * 100)}%`;
  process.stdout.write(
    `bench: sim cpu ${pct(previous.sim.cpuTicks, now.sim.cpuTicks)} rss ${now.sim.rssMb}MB | ` +
      `gateway cpu ${pct(previous.gateway.cpuTicks, now.gateway.cpuTicks)} rss ${now.gateway.rssMb}MB\n`,
  );
  previous = now;
}, 10_000);
await once(sim, 'exit');
clearInterval(timer);
process.stdout.write(`bench: summary ${summary}`);
gateway.kill('SIGTERM');
await once(gateway, 'exit');
rmSync(dir, { recursive: true, force: true });
