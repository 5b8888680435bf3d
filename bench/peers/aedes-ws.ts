import { join } from 'node:path';
import { DIST_BENCH } from '../paths.js';
import { deviceIds, type Peer } from './peer.js';
import { firstJsonLine, spawnServer, stopProcess } from './process.js';

export const aedesWs: Peer = {
  name: 'aedes',
  label: 'Aedes 1.2 over WebSocket, QoS 1',
  transport: 'MQTT/ws',
  scenarios: ['saturation', 'fixed-rate', 'capacity', 'overload', 'memory'],
  fullOnly: ['saturation', 'fixed-rate', 'capacity', 'overload', 'memory'],
  unavailable: () => undefined,
  async start({ devices }) {
    const child = spawnServer(process.execPath, [join(DIST_BENCH, 'peers', 'aedes-ws-server.js')]);
    const { ws, mqtt } = await firstJsonLine<{ ws: string; mqtt: string }>(child);
    return {
      target: { driver: 'mqtt-ws', deviceUrl: ws, devices: deviceIds(devices), subscriber: { url: mqtt } },
      pid: child.pid!,
      stop: () => stopProcess(child),
    };
  },
};
