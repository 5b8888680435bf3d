// Closing means closed: once the gateway has sent a device its close frame, nothing
// the device sends after it is validated, published or acked, and a device that
// never answers the close frame loses its TCP connection 2 s later. The device here
// is a hand-written client (test/helpers/raw-device.ts): a `ws` client would answer
// the close frame at once and stop sending, which hides both behaviours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLOSE_HANDSHAKE_MS } from '../gateway/device/close-socket.js';
import { subscribedBackend, type TestBackend } from './helpers/backend.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice, telemetry, type TestDevice } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';
import { connectRawDevice, type CloseFrame, type RawDevice } from './helpers/raw-device.js';

const READING = { temperature: 21.5, humidity: 40 };
/** The close timer's 2 s plus room for a loaded machine. */
const CUT_WITHIN_MS = CLOSE_HANDSHAKE_MS + 500;

/** Sends valid telemetry the moment the close frame arrives, as a device that ignores it would. */
async function sendAfterClose(raw: RawDevice, ids: string[]): Promise<CloseFrame> {
  const close = await withDeadline(raw.closeFrame, 5000, 'the close frame');
  for (const id of ids) raw.send(telemetry(id, READING));
  return close;
}

/**
 * Proves a negative on the telemetry stream: with the device's socket already cut,
 * the healthy device's sentinel is published after anything the closed device could
 * have got published, so it must be the next message the backend sees.
 */
async function nextIsSentinel(backend: TestBackend, healthy: TestDevice, device: string): Promise<void> {
  healthy.send(telemetry('sentinel', READING));
  assert.deepEqual(await healthy.nextFrame(), { type: 'ack', id: 'sentinel' });
  const next = await backend.nextMessage();
  assert.deepEqual([next.topic, next.payload.id], [`devices/${device}/telemetry`, 'sentinel']);
}

test('a revoked device that ignores the 4401 close frame: its later frames are not acked or published, and its socket is cut after 2 s', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => backend.close());
  const healthy = await connectDevice(gw, await provision(gw, 'healthy-1'));
  const raw = await connectRawDevice(gw, await provision(gw, 'env-1'));
  t.after(() => raw.destroy());

  // While open, the hand-written client is an ordinary device: acked and published.
  raw.send(telemetry('before', READING));
  assert.deepEqual(await raw.nextFrame(), { type: 'ack', id: 'before' });
  const before = await backend.nextMessage();
  assert.deepEqual([before.topic, before.payload.id], ['devices/env-1/telemetry', 'before']);

  assert.ok((await gw.devices.revoke('env-1')).ok);
  const close = await sendAfterClose(raw, ['after-1', 'after-2', 'after-3']);
  assert.equal(close.code, 4401);
  assert.equal(close.reason, 'unauthorized');

  const cutAt = await withDeadline(raw.ended, CUT_WITHIN_MS + 1000, 'end of the TCP connection');
  assert.ok(cutAt - close.at <= CUT_WITHIN_MS, `socket cut ${cutAt - close.at} ms after the close frame`);
  // Any ack would have been written before the gateway cut the socket.
  assert.deepEqual(raw.afterClose, []);
  await nextIsSentinel(backend, healthy, 'healthy-1');
});

test('a device taken over by its own newer connection gets 4409, and what the old socket sends after is not published', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => backend.close());
  const token = await provision(gw, 'env-1');
  const old = await connectRawDevice(gw, token);
  t.after(() => old.destroy());

  const closed = sendAfterClose(old, ['old-1', 'old-2']);
  const newer = await connectDevice(gw, token);
  const close = await closed;
  assert.equal(close.code, 4409);
  assert.equal(close.reason, 'replaced');

  const cutAt = await withDeadline(old.ended, CUT_WITHIN_MS + 1000, 'end of the old TCP connection');
  assert.ok(cutAt - close.at <= CUT_WITHIN_MS, `old socket cut ${cutAt - close.at} ms after the close frame`);
  assert.deepEqual(old.afterClose, []);
  // The sentinel comes from the same device id: only the newer connection's frames are published.
  await nextIsSentinel(backend, newer, 'env-1');
});
