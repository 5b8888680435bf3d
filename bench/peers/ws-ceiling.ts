import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_BENCH } from '../paths.js';
import { devCertificate } from './dev-certificate.js';
import { deviceIds, type Peer } from './peer.js';
import { firstJsonLine, spawnServer, stopProcess } from './process.js';

const SERVER = join(DIST_BENCH, 'peers', 'ws-ceiling-server.js');

export const wsCeiling: Peer = {
  name: 'ws-ceiling',
  label: 'bare ws server, JSON.parse only (ceiling)',
  transport: 'ws',
  scenarios: ['saturation', 'fixed-rate', 'memory'],
  fullOnly: ['saturation', 'fixed-rate', 'memory'],
  unavailable: () => undefined,
  async start({ devices }) {
    const child = spawnServer(process.execPath, [SERVER]);
    const { ws } = await firstJsonLine<{ ws: string }>(child);
    return { target: { driver: 'ws-ack', deviceUrl: ws, devices: deviceIds(devices) }, pid: child.pid!, stop: () => stopProcess(child) };
  },
};

/** The same ceiling over TLS with the same kind of certificate as our gateway's --dev one (EC P-256). */
export const wssCeiling: Peer = {
  name: 'wss-ceiling',
  label: 'bare ws server over TLS, JSON.parse only (TLS ceiling)',
  transport: 'WSS (TLS)',
  scenarios: ['saturation', 'fixed-rate', 'memory'],
  fullOnly: ['memory'],
  unavailable: () => undefined,
  async start({ devices }) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-wss-'));
    const { certFile, keyFile, ca } = await devCertificate(dir);
    const child = spawnServer(process.execPath, [SERVER, '--tls', certFile, keyFile]);
    const { ws } = await firstJsonLine<{ ws: string }>(child);
    return {
      target: { driver: 'ws-ack', deviceUrl: ws, ca, devices: deviceIds(devices) },
      pid: child.pid!,
      async stop() {
        await stopProcess(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};
