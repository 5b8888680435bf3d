import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from '../paths.js';
import { mosquittoUnqueued, waitForPort } from './mosquitto.js';
import { deviceIds, type Peer, type RunningPeer } from './peer.js';
import { freePort, spawnServer, stopProcess } from './process.js';

const RED_JS = join(REPO_ROOT, 'node_modules', 'node-red', 'red.js');

/**
 * The flow a Node-RED user would draw: websocket in -> json -> mqtt out (QoS 1), with
 * Mosquitto (max_queued_messages 0, so the broker is not what drops) as the broker.
 * Devices get no ack: a websocket-in node has none, so there is no backpressure either.
 * Both Node-RED and its broker run on the server core.
 */
function flows(mqttPort: number): unknown[] {
  // Ids must not equal a node type: Node-RED reads such values as config-node references.
  return [
    { id: 'b0000001', type: 'tab', label: 'bench' },
    { id: 'b0000002', type: 'websocket-listener', path: '/ws/telemetry', wholemsg: 'false' },
    { id: 'b0000003', type: 'websocket in', z: 'b0000001', server: 'b0000002', client: '', wires: [['b0000004']] },
    { id: 'b0000004', type: 'json', z: 'b0000001', property: 'payload', action: 'obj', pretty: false, wires: [['b0000005']] },
    { id: 'b0000005', type: 'mqtt out', z: 'b0000001', topic: 'devices/node-red/telemetry', qos: '1', retain: 'false', broker: 'b0000006', wires: [] },
    { id: 'b0000006', type: 'mqtt-broker', broker: '127.0.0.1', port: String(mqttPort), clientid: 'node-red-bench', usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
  ];
}

export const nodeRed: Peer = {
  name: 'node-red',
  label: 'Node-RED 4 flow websocket-in → json → mqtt-out',
  transport: 'ws',
  scenarios: ['saturation', 'fixed-rate'],
  fullOnly: ['saturation', 'fixed-rate'],
  unavailable: () => (!existsSync(RED_JS) ? 'node-red not installed' : mosquittoUnqueued.unavailable()),
  async start({ devices, scenario }): Promise<RunningPeer> {
    const broker = await mosquittoUnqueued.start({ devices: 0, scenario });
    const mqttUrl = broker.target.subscriber!.url;
    const dir = mkdtempSync(join(tmpdir(), 'bench-node-red-'));
    const port = await freePort();
    writeFileSync(join(dir, 'flows.json'), JSON.stringify(flows(Number(new URL(mqttUrl).port))));
    writeFileSync(
      join(dir, 'settings.js'),
      `module.exports = ${JSON.stringify({ uiPort: port, uiHost: '127.0.0.1', httpAdminRoot: false, flowFile: 'flows.json', credentialSecret: false, logging: { console: { level: 'info' } } })};\n`,
    );
    const child = spawnServer(process.execPath, [RED_JS, '--userDir', dir, '--settings', join(dir, 'settings.js')]);
    await Promise.all([waitForPort(port, 30_000), startedFlows(child)]);
    return {
      target: { driver: 'ws-fire', deviceUrl: `ws://127.0.0.1:${port}/ws/telemetry`, devices: deviceIds(devices), subscriber: { url: mqttUrl } },
      pid: child.pid!,
      // Its broker does part of the work: the CPU figure is the pair's.
      processes: () => [
        { name: 'node-red', pid: child.pid! },
        { name: 'mosquitto', pid: broker.pid },
      ],
      async stop() {
        await stopProcess(child);
        await broker.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Node-RED logs "Started flows" once the flow (and its MQTT connection) is up. */
function startedFlows(child: ReturnType<typeof spawnServer>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('Node-RED did not start its flows within 30 s')), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!/Connected to broker|Started flows/.test(line)) return;
      if (/Connected to broker/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
