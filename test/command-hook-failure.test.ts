// A command the gateway could not store must not be acknowledged: the backend's
// PUBACK is its only proof that the command is on disk. When storing throws, the
// broker refuses the publish (MQTT 3.1.1 has no negative PUBACK [MQTT-3.3.5-2], so
// it closes the backend's connection), nothing is reported for the command, the
// failure is logged as internal_error, and devices are served as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectBackend, subscribedBackend } from './helpers/backend.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

test('a command the store refuses gets no PUBACK, its backend is disconnected, no status is reported and devices keep working', async (t) => {
  const log: Array<Record<string, unknown>> = [];
  const gw = await startTestGateway({}, undefined, (line) => log.push(JSON.parse(line) as Record<string, unknown>));
  t.after(() => gw.close());
  const observer = await subscribedBackend(gw, 'devices/+/commands/+/status');
  t.after(() => observer.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  const commander = await connectBackend(gw, { pub: ['devices/+/commands'] });
  // Its connection is closed by the broker; endAsync() on it would never settle.
  t.after(() => void commander.client.end(true));

  // The gateway's prepared statements fail at once on a table that is gone (no busy wait).
  gw.store.exec('DROP TABLE commands');
  let outcome = 'pending';
  commander.client
    .publishAsync('devices/env-1/commands', JSON.stringify({ id: 'c-1', name: 'set_interval', params: { seconds: 10 } }), { qos: 1 })
    .then(() => (outcome = 'acked'), () => (outcome = 'rejected'));
  await withDeadline(new Promise((resolve) => commander.client.once('close', () => resolve(undefined))), 5000, 'disconnect of the backend');
  assert.equal(outcome, 'pending', 'a PUBACK arrived for a command that was never stored');

  const failures = log.filter((line) => line.code === 'internal_error' && line.topic === 'devices/env-1/commands');
  assert.equal(failures.length, 1, JSON.stringify(log));
  assert.equal(failures[0]!.level, 'error');

  // Sentinel: a rejected command (never stored) for the same device is reported in order
  // after anything c-1 could have produced, so it must be the first status event.
  const second = await connectBackend(gw, { pub: ['devices/+/commands'] });
  t.after(() => second.close());
  await second.publish('devices/env-1/commands', { id: 'c-2', name: 'self_destruct', params: {} });
  const first = await observer.nextMessage();
  assert.deepEqual([first.topic, first.payload.status], ['devices/env-1/commands/c-2/status', 'rejected']);

  device.send(telemetry('t-1', { temperature: 21.5, humidity: 40 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 't-1' });
  await device.close();
});
