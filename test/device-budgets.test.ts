// What a device may cost: every frame takes from its rate budget (refused ones
// too), the burst follows the configured rate, and a device that goes on sending
// refused frames is closed, without getting a fresh budget by reconnecting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectDevice, telemetry, type TestDevice } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

async function replies(device: TestDevice, count: number): Promise<string[]> {
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    const frame = await device.nextFrame();
    codes.push(frame.type === 'ack' ? 'ack' : String(frame.code));
  }
  return codes;
}

test('limits.burst follows limits.messagesPerSec: at 5/s most of a 60-frame burst is rate_limited, and the device may resend after', async (t) => {
  const gw = await startTestGateway({ limits: { messagesPerSec: 5 } });
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'dev-1'));
  for (let i = 1; i <= 60; i++) device.send(telemetry(`m-${i}`, { temperature: 20, humidity: 50 }));
  const codes = await replies(device, 60);
  const acked = codes.filter((c) => c === 'ack').length;
  assert.ok(acked >= 10 && acked <= 12, `burst of 2 x 5 = 10 (plus what refills meanwhile), acked ${acked}`);
  assert.equal(codes.filter((c) => c === 'rate_limited').length, 60 - acked);
  // A rate-limited device is not cut off: a second later its resend is taken.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  device.send(telemetry('m-60', { temperature: 20, humidity: 50 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-60' });
  await device.close();
});

test('refused frames cost rate budget too: bad frames use up the burst a valid one would have had', async (t) => {
  const gw = await startTestGateway({ limits: { messagesPerSec: 1, burst: 3 } });
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'dev-1'));
  device.send('{not json');
  device.send(telemetry('bad', { temperature: 'hot' }));
  device.send({ type: 'nope' });
  device.send(telemetry('good', { temperature: 20, humidity: 50 }));
  assert.deepEqual(await replies(device, 4), ['bad_json', 'invalid_telemetry', 'bad_frame', 'rate_limited']);
  await device.close();
});

test('a device that keeps sending refused frames is closed with 4429 flooding, and reconnecting does not refill its budget', async (t) => {
  const gw = await startTestGateway({ limits: { messagesPerSec: 5, refusalsPerSec: 1, refusalBurst: 20 } });
  t.after(() => gw.close());
  const token = await provision(gw, 'dev-1');
  const device = await connectDevice(gw, token);
  for (let i = 0; i < 100; i++) device.send('{broken');
  const closed = await device.closed;
  assert.deepEqual(closed, { code: 4429, reason: 'flooding' });

  const again = await connectDevice(gw, token);
  again.send('{broken');
  // One refusal answers (bad_json, or rate_limited while the frame budget is still spent), then the close.
  assert.equal((await again.nextFrame()).type, 'error');
  assert.deepEqual(await again.closed, { code: 4429, reason: 'flooding' });
  const health = (await (await fetch(`${gw.addresses.http}/healthz`)).json()) as { counters: Record<string, number> };
  assert.equal(health.counters.flooding, 2);
});
