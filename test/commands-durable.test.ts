// "Accepted" is a promise: a command the gateway reported accepted survives a
// kill -9 of the gateway process and is delivered after restart (or expires).
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { connectTestBackend, type TestBackend } from './helpers/backend.js';
import { runCli, spawnGateway } from './helpers/cli.js';
import { TestDevice } from './helpers/device.js';
import { tempDataDir } from './helpers/gateway.js';

async function backendFor(url: string): Promise<TestBackend> {
  const backend = await connectTestBackend(url, { username: 'ops', password: 'pw' });
  await backend.subscribe('devices/+/commands/+/status');
  return backend;
}

test('accepted commands survive kill -9 of the gateway and are delivered in order after restart', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const { token } = JSON.parse((await runCli(['devices', 'add', 'env-1', '--model', 'env-sensor', '--json', '--data-dir', dataDir])).stdout) as {
    token: string;
  };
  await runCli(['users', 'add', 'ops', '--password-stdin', '--allow-pub', 'devices/+/commands', '--allow-sub', 'devices/#', '--data-dir', dataDir], {
    stdin: 'pw',
  });

  const first = await spawnGateway(dataDir);
  const backend = await backendFor(first.addresses.mqtt);
  await backend.publish('devices/env-1/commands', { id: 'c-1', name: 'ping' });
  await backend.publish('devices/env-1/commands', { id: 'c-2', name: 'set_interval', params: { seconds: 5 } });
  await backend.publish('devices/env-1/commands', { id: 'gone', name: 'ping', ttlMs: 300 });
  await backend.publish('devices/env-1/commands', { id: 'c-3', name: 'calibrate', params: { offset: -0.5 } });
  for (let i = 0; i < 4; i++) assert.equal((await backend.nextMessage()).payload.status, 'accepted');
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.once('exit', resolve));
  backend.client.end(true);
  await new Promise((resolve) => setTimeout(resolve, 400)); // 'gone' expires while the gateway is down

  // Status events are not retained: the gateway waits before reporting what lapsed while it was down.
  const second = await spawnGateway(dataDir, [], { WMG_COMMANDS_STARTUP_REPORT_DELAY_MS: '1500' });
  t.after(() => second.child.kill('SIGTERM'));
  const watcher = await backendFor(second.addresses.mqtt);
  t.after(() => watcher.close());
  const expired = await watcher.nextMessage();
  assert.deepEqual([expired.payload.id, expired.payload.status], ['gone', 'expired']);

  const ca = readFileSync(join(dataDir, 'dev-cert.pem'));
  const device = new TestDevice(new WebSocket(second.addresses.ws, { ca, headers: { authorization: `Bearer ${token}` } }));
  assert.equal((await device.nextFrame()).type, 'welcome');
  const received = [];
  for (let i = 0; i < 3; i++) {
    const command = await device.nextFrame();
    received.push([command.id, command.name]);
    device.send({ type: 'command_result', id: command.id, ok: true });
  }
  assert.deepEqual(received, [['c-1', 'ping'], ['c-2', 'set_interval'], ['c-3', 'calibrate']]);
  const after = [];
  for (let i = 0; i < 6; i++) after.push((await watcher.nextMessage()).payload);
  assert.deepEqual(after.filter((e) => e.status === 'succeeded').map((e) => e.id), ['c-1', 'c-2', 'c-3']);
  await device.close();
});
