// The gateway's timers (the registry watch, the command sweeper) read a store that
// another process shares and that can fail under them. A failing tick is logged with
// code internal_error and the next tick tries again: the gateway stays up, devices
// keep being served, and the timer does its job again once the store is back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openStore } from '../gateway/store/open-store.js';
import { Arrivals } from './helpers/arrivals.js';
import { connectBackend, subscribedBackend } from './helpers/backend.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice, telemetry, type TestDevice } from './helpers/device.js';
import { provision, startTestGateway, tempDataDir, type TestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

const TICKS = 3;

/** A gateway whose internal_error log lines a test awaits one by one. */
async function gatewayWithErrors(): Promise<{ gw: TestGateway; internalErrors: Arrivals<Record<string, unknown>> }> {
  const internalErrors = new Arrivals<Record<string, unknown>>('internal_error log line');
  const gw = await startTestGateway({}, undefined, (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (line.code === 'internal_error') internalErrors.push(line);
  });
  return { gw, internalErrors };
}

async function assertAcked(device: TestDevice, id: string): Promise<void> {
  device.send(telemetry(id, { temperature: 21.5, humidity: 40 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id });
}

test('a failing registry watch is logged as internal_error every tick, never stops the gateway, and enforces revocations again once the store is back', async (t) => {
  const { gw, internalErrors } = await gatewayWithErrors();
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));

  gw.store.exec('ALTER TABLE registry_changes RENAME TO registry_changes_away');
  // The watch polls every 250 ms: each tick fails and logs, and the next one runs anyway.
  for (let tick = 0; tick < TICKS; tick++) assert.equal((await internalErrors.next(2000)).level, 'error');
  await assertAcked(device, 't-1');

  gw.store.exec('ALTER TABLE registry_changes_away RENAME TO registry_changes');
  assert.ok((await gw.devices.revoke('env-1')).ok);
  assert.equal((await withDeadline(device.closed, 3000, 'close of the revoked device')).code, 4401);
});

test('registry changes older than 10 minutes are pruned on the watch\'s first tick; newer ones are kept', async (t) => {
  const dataDir = tempDataDir();
  const store = openStore(dataDir);
  const insert = store.prepare('INSERT INTO registry_changes (kind, subject, at) VALUES (?, ?, ?)');
  const old = insert.run('device', 'gone-1', 0).lastInsertRowid;
  const recent = insert.run('device', 'kept-1', Date.now()).lastInsertRowid;
  store.close();

  const gw = await startTestGateway({}, dataDir);
  t.after(() => gw.close());
  const exists = (seq: number | bigint) => gw.store.prepare('SELECT 1 FROM registry_changes WHERE seq = ?').get(seq) !== undefined;
  // The next prune is a minute later, so a row still there after a few ticks was not pruned on the first.
  await waitFor('the 10-minute-old registry change to be pruned', () => !exists(old), 2000);
  assert.ok(exists(recent), 'a registry change younger than 10 minutes was pruned');
});

test('a failing command sweep is logged as internal_error every tick, never stops the gateway, and commands flow again once the store is back', async (t) => {
  const { gw, internalErrors } = await gatewayWithErrors();
  t.after(() => gw.close());
  const observer = await subscribedBackend(gw, 'devices/+/commands/+/status');
  t.after(() => observer.close());
  const commander = await connectBackend(gw, { pub: ['devices/+/commands'] });
  t.after(() => commander.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));

  gw.store.exec('ALTER TABLE commands RENAME TO commands_away');
  // The sweeper runs every 250 ms (commands.startupReportDelayMs is 0 in tests).
  for (let tick = 0; tick < TICKS; tick++) assert.equal((await internalErrors.next(2000)).level, 'error');
  await assertAcked(device, 't-1');

  gw.store.exec('ALTER TABLE commands_away RENAME TO commands');
  await commander.publish('devices/env-1/commands', { id: 'c-1', name: 'ping', params: {} });
  assert.equal((await device.nextFrame()).id, 'c-1');
  const events = [await observer.nextMessage(), await observer.nextMessage()];
  assert.deepEqual(events.map((e) => e.payload.status), ['accepted', 'delivered']);
});
