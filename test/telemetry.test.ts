// What a device author and a backend rely on for the data path: a valid frame
// is published with the documented payload and acked; an invalid one gets a
// coded error frame, lands on the dead-letter topic and never on a data topic.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subscribedBackend } from './helpers/backend.js';
import { connectDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

test('valid telemetry is published with the documented payload and acked', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));

  const before = Date.now();
  device.send(telemetry('m-1', { temperature: 21.5, humidity: 40, battery: 97 }, 1732400000000));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-1' });
  const { topic, payload } = await backend.nextMessage();
  assert.equal(topic, 'devices/env-1/telemetry');
  assert.deepEqual(Object.keys(payload).sort(), ['data', 'device', 'id', 'model', 'receivedAt', 'ts']);
  assert.equal(payload.device, 'env-1');
  assert.equal(payload.model, 'env-sensor');
  assert.equal(payload.id, 'm-1');
  assert.equal(payload.ts, 1732400000000);
  assert.ok((payload.receivedAt as number) >= before);
  assert.deepEqual(payload.data, { temperature: 21.5, humidity: 40, battery: 97 });
  await device.close();
});

test('an ISO-8601 ts is published as epoch ms and a missing ts becomes receivedAt', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));

  device.send(telemetry('iso', { temperature: 1, humidity: 2 }, '2024-11-23T22:13:20.000Z'));
  device.send(telemetry('none', { temperature: 1, humidity: 2 }));
  const iso = await backend.nextMessage();
  const none = await backend.nextMessage();
  assert.equal(iso.payload.ts, 1732400000000);
  assert.equal(none.payload.ts, none.payload.receivedAt);
  await device.close();
});

test('state is published retained with updatedAt, so a late subscriber still gets it', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'meter-1', 'meter'));
  device.send({ type: 'state', id: 's-1', state: { relay: 'on', firmware: '1.2.0' } });
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 's-1' });

  const late = await subscribedBackend(gw, 'devices/meter-1/state');
  t.after(() => late.close());
  const { payload, retain } = await late.nextMessage();
  assert.equal(retain, true);
  assert.equal(payload.device, 'meter-1');
  assert.deepEqual(payload.state, { relay: 'on', firmware: '1.2.0' });
  assert.equal(typeof payload.updatedAt, 'number');
  await device.close();
});

test('invalid telemetry gets invalid_telemetry with paths, is dead-lettered and never reaches the data topic', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry', 'gateway/deadletter/+');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));

  const bad = telemetry('m-bad', { temperature: 'hot', humidity: 50, pressure: 1013 });
  device.send(bad);
  device.send(telemetry('m-good', { temperature: 20, humidity: 50 })); // sentinel

  const error = await device.nextFrame();
  assert.equal(error.type, 'error');
  assert.equal(error.id, 'm-bad');
  assert.equal(error.code, 'invalid_telemetry');
  assert.equal(typeof error.message, 'string');
  assert.deepEqual(
    (error.errors as Array<{ path: string }>).map((e) => e.path).sort(),
    ['/data/pressure', '/data/temperature'],
  );
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-good' });

  const first = await backend.nextMessage();
  const second = await backend.nextMessage();
  const dead = [first, second].find((m) => m.topic.startsWith('gateway/'))!;
  const data = [first, second].find((m) => m.topic.startsWith('devices/'))!;
  assert.equal(dead.topic, 'gateway/deadletter/env-1');
  assert.equal(dead.payload.device, 'env-1');
  assert.equal(dead.payload.code, 'invalid_telemetry');
  assert.equal(typeof dead.payload.receivedAt, 'number');
  assert.equal(dead.payload.frame, JSON.stringify(bad));
  assert.ok(Array.isArray(dead.payload.errors) && dead.payload.errors.length === 2);
  // The only data message is the valid sentinel.
  assert.equal(data.payload.id, 'm-good');
  await device.close();
});

test('invalid state gets invalid_state and is not retained', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'trk-1', 'tracker'));
  device.send({ type: 'state', id: 's-1', state: { mode: 'flying' } });
  const error = await device.nextFrame();
  assert.equal(error.code, 'invalid_state');
  assert.deepEqual(error.errors, [{ path: '/state/mode', message: 'must be equal to one of the allowed values' }]);
  device.send({ type: 'state', id: 's-2', state: { mode: 'parked' } });
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 's-2' });

  const late = await subscribedBackend(gw, 'devices/trk-1/state');
  t.after(() => late.close());
  assert.deepEqual((await late.nextMessage()).payload.state, { mode: 'parked' });
  await device.close();
});

test('bad JSON, binary frames and unknown types get an error frame, a dead letter, and the socket stays open', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'gateway/deadletter/+');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));

  device.send('{"type":"telemetry",');
  assert.equal((await device.nextFrame()).code, 'bad_json');
  device.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal((await device.nextFrame()).code, 'bad_frame');
  device.send({ type: 'selfie', id: 'x-1' });
  const unknownType = await device.nextFrame();
  assert.equal(unknownType.code, 'bad_frame');
  assert.equal(unknownType.id, undefined, 'an unparsed frame has no id to echo');
  device.send('[1,2]');
  assert.equal((await device.nextFrame()).code, 'bad_frame');
  device.send({ type: 'telemetry', data: { temperature: 1, humidity: 1 } }); // no id
  assert.equal((await device.nextFrame()).code, 'invalid_telemetry');

  device.send(telemetry('still-here', { temperature: 1, humidity: 1 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'still-here' });

  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await backend.nextMessage()).payload);
  assert.deepEqual(codes.map((p) => p.code), ['bad_json', 'bad_frame', 'bad_frame', 'bad_frame', 'invalid_telemetry']);
  assert.equal(codes[1]!.frame, Buffer.from([1, 2, 3]).toString('base64'));
  assert.equal(codes[1]!.frameEncoding, 'base64');
  await device.close();
});

test('a frame over maxFrameBytes closes the socket with 1009', async (t) => {
  const gw = await startTestGateway({ limits: { maxFrameBytes: 1024 } });
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  device.send(telemetry('big', { temperature: 1, humidity: 1, battery: 1, pad: 'x'.repeat(2000) }));
  assert.equal((await device.closed).code, 1009);
});

test('a dead letter carries at most 4 KiB of the frame', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'gateway/deadletter/+');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  device.send(telemetry('big', { temperature: 1, humidity: 1, note: 'y'.repeat(10_000) }));
  assert.equal((await device.nextFrame()).code, 'invalid_telemetry');
  const { payload } = await backend.nextMessage();
  assert.equal((payload.frame as string).length, 4096);
  assert.ok((payload.frameBytes as number) > 10_000);
  await device.close();
});

test('over the per-device rate a frame gets rate_limited, is not acked, and may be resent', async (t) => {
  const gw = await startTestGateway({ limits: { messagesPerSec: 1, burst: 3 } });
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  for (let i = 1; i <= 4; i++) device.send(telemetry(`m-${i}`, { temperature: i, humidity: 1 }));
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push(await device.nextFrame());
  assert.deepEqual(replies.filter((f) => f.type === 'ack').map((f) => f.id).sort(), ['m-1', 'm-2', 'm-3']);
  const limited = replies.find((f) => f.type === 'error')!;
  assert.equal(limited.code, 'rate_limited');
  assert.equal(limited.id, 'm-4');

  // One token per second refills: the resend goes through.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  device.send(telemetry('m-4', { temperature: 4, humidity: 1 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-4' });
  const published = [];
  for (let i = 0; i < 4; i++) published.push((await backend.nextMessage()).payload.id);
  assert.deepEqual(published, ['m-1', 'm-2', 'm-3', 'm-4']);
  await device.close();
});
