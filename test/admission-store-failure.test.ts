// A device that connects while the command store fails (a disk error, a lock held
// past busy_timeout by another process) must not take the gateway down: admitting it
// reads the device's queued commands, and a throw there is the gateway's to log
// (internal_error) and contain, like a throw while handling a frame. The device may
// be served or closed with 1011 internal_error; every other device is served as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Arrivals } from './helpers/arrivals.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice, openDevice, telemetry, type Frame } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

test('a device connecting while the command store fails does not stop the gateway; other devices keep being served', async (t) => {
  const internalErrors = new Arrivals<Record<string, unknown>>('internal_error log line');
  const gw = await startTestGateway({}, undefined, (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (line.code === 'internal_error' && line.device === 'env-2') internalErrors.push(line);
  });
  t.after(() => gw.close());
  const healthy = await connectDevice(gw, await provision(gw, 'env-1'));
  const token = await provision(gw, 'env-2');

  gw.store.exec('ALTER TABLE commands RENAME TO commands_away');
  const late = await openDevice(gw, token);
  const outcome = await withDeadline(
    Promise.race([late.nextFrame().then((frame: Frame) => frame.type), late.closed.then(({ code }) => `closed ${code}`)]),
    5000,
    'welcome or close for the device',
  );
  assert.ok(outcome === 'welcome' || outcome === 'closed 1011', outcome);
  assert.equal((await internalErrors.next(2000)).level, 'error');

  healthy.send(telemetry('t-1', { temperature: 21.5, humidity: 40 }));
  assert.deepEqual(await healthy.nextFrame(), { type: 'ack', id: 't-1' });
  gw.store.exec('ALTER TABLE commands_away RENAME TO commands');
  await healthy.close();
});
