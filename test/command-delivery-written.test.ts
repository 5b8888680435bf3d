// A command is `delivered` only once it was written to an open socket. A command that
// arrives while the device's socket is closing (the device ignores the close frame,
// so the socket lingers for the 2 s close handshake) stays queued and goes to the
// device's next connection; reporting it delivered would lose it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectBackend, subscribedBackend, type Received } from './helpers/backend.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';
import { connectRawDevice } from './helpers/raw-device.js';

// Presence and command status of one device are published in the order they happened
// (gateway/broker/ordered-publisher.ts), so the presence events frame the status events.
function describe({ topic, payload }: Received): string {
  if (topic === 'devices/env-1/presence') return payload.online ? 'online' : 'offline';
  assert.equal(topic, 'devices/env-1/commands/c-1/status');
  return String(payload.status);
}

test('a command published while the device socket is closing stays queued (accepted, not delivered) and is delivered on the next connection', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const observer = await subscribedBackend(gw, 'devices/env-1/commands/c-1/status', 'devices/env-1/presence');
  t.after(() => observer.close());
  const commander = await connectBackend(gw, { pub: ['devices/+/commands'] });
  t.after(() => commander.close());
  const raw = await connectRawDevice(gw, await provision(gw, 'env-1'));
  t.after(() => raw.destroy());
  let cut = false;
  void raw.ended.then(() => (cut = true));
  assert.equal(describe(await observer.nextMessage()), 'online');

  assert.ok((await gw.devices.revoke('env-1')).ok);
  assert.equal((await withDeadline(raw.closeFrame, 5000, 'close frame')).code, 4401);
  await commander.publish('devices/env-1/commands', { id: 'c-1', name: 'set_interval', params: { seconds: 10 } });
  assert.equal(cut, false, 'the PUBACK came after the socket was cut: this run did not test a closing socket');
  assert.equal(describe(await observer.nextMessage()), 'accepted');

  // Offline comes when the gateway cuts the socket; a wrong `delivered` would come before it.
  await withDeadline(raw.ended, 5000, 'end of the TCP connection');
  assert.deepEqual(raw.afterClose, []);
  assert.equal(describe(await observer.nextMessage()), 'offline');

  const rotated = await gw.devices.rotate('env-1');
  assert.ok(rotated.ok);
  const device = await connectDevice(gw, rotated.value.token);
  t.after(() => device.close());
  const command = await device.nextFrame();
  assert.deepEqual({ ...command, expiresAt: 0 }, { type: 'command', id: 'c-1', name: 'set_interval', params: { seconds: 10 }, expiresAt: 0 });
  assert.equal(describe(await observer.nextMessage()), 'online');
  assert.equal(describe(await observer.nextMessage()), 'delivered');
});
