import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../load/connect-all.js';
import { deviceIds, type Peer, type RunningPeer } from './peer.js';
import { freePort, spawnServer, stopProcess, which } from './process.js';

/**
 * Mosquitto 2 from the Debian package with a websockets listener for devices and a
 * TCP listener for the backend. `maxQueued` undefined keeps the default (1000 QoS 1
 * messages queued per subscriber, beyond which Mosquitto drops, after it PUBACKed).
 */
function mosquittoPeer(name: string, label: string, maxQueued: number | undefined, scenarios: Peer['scenarios']): Peer {
  return {
    name,
    label,
    transport: 'MQTT/ws',
    scenarios,
    unavailable: () => (which('mosquitto') ? undefined : 'mosquitto binary not found (apt-get install mosquitto)'),
    async start({ devices }): Promise<RunningPeer> {
      const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
      const [mqttPort, wsPort] = [await freePort(), await freePort()];
      const lines = [
        `listener ${mqttPort} 127.0.0.1`,
        `listener ${wsPort} 127.0.0.1`,
        'protocol websockets',
        'allow_anonymous true',
        'persistence false',
        'log_dest stderr',
        'log_type error',
        ...(maxQueued === undefined ? [] : [`max_queued_messages ${maxQueued}`]),
      ];
      writeFileSync(join(dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
      const child = spawnServer(which('mosquitto')!, ['-c', join(dir, 'mosquitto.conf')]);
      await waitForPort(mqttPort);
      return {
        target: { driver: 'mqtt-ws', deviceUrl: `ws://127.0.0.1:${wsPort}`, devices: deviceIds(devices), subscriber: { url: `mqtt://127.0.0.1:${mqttPort}` } },
        pid: child.pid!,
        async stop() {
          await stopProcess(child);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const mosquitto = mosquittoPeer('mosquitto', 'Mosquitto 2.0 websockets listener, QoS 1, defaults', undefined, ['saturation', 'fixed-rate', 'memory']);
export const mosquittoUnqueued = mosquittoPeer('mosquitto-mq0', 'Mosquitto, QoS 1, max_queued_messages 0', 0, ['saturation']);
