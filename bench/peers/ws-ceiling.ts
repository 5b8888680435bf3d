import { join } from 'node:path';
import { DIST_BENCH } from '../paths.js';
import { deviceIds, type Peer } from './peer.js';
import { firstJsonLine, spawnServer, stopProcess } from './process.js';

export const wsCeiling: Peer = {
  name: 'ws-ceiling',
  label: 'bare ws server, JSON.parse only (ceiling)',
  transport: 'ws',
  scenarios: ['saturation', 'fixed-rate', 'memory'],
  unavailable: () => undefined,
  async start({ devices }) {
    const child = spawnServer(process.execPath, [join(DIST_BENCH, 'peers', 'ws-ceiling-server.js')]);
    const { ws } = await firstJsonLine<{ ws: string }>(child);
    return { target: { driver: 'ws-ack', deviceUrl: ws, devices: deviceIds(devices) }, pid: child.pid!, stop: () => stopProcess(child) };
  },
};
