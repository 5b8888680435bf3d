import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../load/connect-all.js';
import { devCertificate, type DevCertificate } from './dev-certificate.js';
import { deviceIds, type Peer, type RunningPeer } from './peer.js';
import { freePort, spawnServer, stopProcess, which } from './process.js';

interface MosquittoOptions {
  /** undefined keeps the default (1000 QoS 1 messages queued per subscriber, beyond which Mosquitto drops, after it PUBACKed). */
  maxQueued?: number;
  /** Devices on wss:// with our --dev kind of certificate, as ours serves them. */
  tls?: boolean;
}

/**
 * Mosquitto 2 from the Debian package with a websockets listener for devices and a
 * plain TCP listener for the backend.
 */
function mosquittoPeer(name: string, label: string, options: MosquittoOptions, scenarios: Peer['scenarios'], fullOnly: Peer['fullOnly'] = []): Peer {
  return {
    name,
    label,
    transport: options.tls ? 'MQTT/wss (TLS)' : 'MQTT/ws',
    scenarios,
    fullOnly,
    unavailable: () => (which('mosquitto') ? undefined : 'mosquitto binary not found (apt-get install mosquitto)'),
    async start({ devices }): Promise<RunningPeer> {
      const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
      const certificate = options.tls ? await readableCertificate(dir) : undefined;
      const [mqttPort, wsPort] = [await freePort(), await freePort()];
      const lines = [
        `listener ${mqttPort} 127.0.0.1`,
        `listener ${wsPort} 127.0.0.1`,
        'protocol websockets',
        ...(certificate ? [`certfile ${certificate.certFile}`, `keyfile ${certificate.keyFile}`] : []),
        'allow_anonymous true',
        'persistence false',
        'log_dest stderr',
        'log_type error',
        ...(options.maxQueued === undefined ? [] : [`max_queued_messages ${options.maxQueued}`]),
      ];
      writeFileSync(join(dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
      const child = spawnServer(which('mosquitto')!, ['-c', join(dir, 'mosquitto.conf')]);
      const stop = async (): Promise<void> => {
        await stopProcess(child);
        rmSync(dir, { recursive: true, force: true });
      };
      // A listener it could not open (a certificate it cannot read) leaves its port closed.
      await Promise.all([waitForPort(mqttPort), waitForPort(wsPort)]).catch(async (err: Error) => {
        await stop();
        throw err;
      });
      return {
        target: {
          driver: 'mqtt-ws',
          deviceUrl: `${certificate ? 'wss' : 'ws'}://127.0.0.1:${wsPort}`,
          ca: certificate?.ca,
          devices: deviceIds(devices),
          subscriber: { url: `mqtt://127.0.0.1:${mqttPort}` },
        },
        pid: child.pid!,
        stop,
      };
    },
  };
}

/**
 * Mosquitto started as root drops to user `mosquitto` before it reads certfile and keyfile
 * (the websockets listener then fails with "Unable to create websockets listener"), so the
 * throw-away bench certificate and its directory are made world-readable.
 */
async function readableCertificate(dir: string): Promise<DevCertificate> {
  const certificate = await devCertificate(dir);
  chmodSync(dir, 0o755);
  for (const file of [certificate.certFile, certificate.keyFile]) chmodSync(file, 0o644);
  return certificate;
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

export const mosquitto = mosquittoPeer('mosquitto', 'Mosquitto 2.0 websockets listener, QoS 1, defaults', {}, ['saturation', 'fixed-rate', 'memory'], ['fixed-rate', 'memory']);
export const mosquittoUnqueued = mosquittoPeer('mosquitto-mq0', 'Mosquitto, QoS 1, max_queued_messages 0', { maxQueued: 0 }, ['saturation', 'fixed-rate', 'capacity', 'overload'], ['saturation', 'fixed-rate', 'capacity', 'overload']);
/** Lossless (it never drops what it acked, like ours) and over TLS: the same work as ours. */
export const mosquittoTls = mosquittoPeer('mosquitto-tls', 'Mosquitto over TLS (wss), QoS 1, max_queued_messages 0', { maxQueued: 0, tls: true }, ['fixed-rate', 'capacity', 'overload']);
