// limits.maxInFlightTotal: past the gateway-wide bound, connections that bring more frames
// stop being read and take turns; none may be left waiting once publishes settle.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InFlightGate } from '../gateway/device/in-flight-gate.js';
import { subscribedBackend } from './helpers/backend.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice, telemetry, type TestDevice } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

function reader(name: string, letIn: string[]) {
  return { letIn: () => letIn.push(name) };
}

test('the gate lets stopped connections in first-stopped first, one per settle under the bound, all of them at half of it', () => {
  const order: string[] = [];
  const gate = new InFlightGate(4);
  const [a, b, c] = [reader('a', order), reader('b', order), reader('c', order)];
  for (let i = 0; i < 4; i++) assert.equal(gate.started(a), true);
  assert.equal(gate.started(b), false, 'the fifth publish is past the bound');
  assert.equal(gate.started(c), false);
  assert.equal(gate.started(b), false);
  assert.equal(gate.inFlight, 7);
  for (let i = 0; i < 3; i++) gate.settled(); // 4 in flight: still at the bound
  assert.deepEqual(order, []);
  gate.settled(); // 3
  assert.deepEqual(order, ['b'], 'first stopped, first let in; once, though it was stopped twice');
  gate.settled(); // 2: half the bound, everyone left
  assert.deepEqual(order, ['b', 'c']);
  gate.settled();
  gate.settled();
  assert.equal(gate.inFlight, 0);
  assert.deepEqual(order, ['b', 'c'], 'nobody is let in twice');
});

test('a closed connection leaves the line', () => {
  const order: string[] = [];
  const gate = new InFlightGate(1);
  const [a, b] = [reader('a', order), reader('b', order)];
  gate.started(a);
  gate.started(b);
  gate.leave(b);
  gate.settled();
  gate.settled();
  assert.deepEqual(order, []);
});

test('under the strictest bound (1), five devices sending 40 readings each at once get every ack in order, each reading delivered once', async (t) => {
  const gw = await startTestGateway({ limits: { maxInFlightTotal: 1 } });
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => backend.close());
  const devices: TestDevice[] = [];
  for (let d = 0; d < 5; d++) devices.push(await connectDevice(gw, await provision(gw, `gate-${d}`)));
  t.after(() => Promise.all(devices.map((device) => device.close())));

  for (let i = 1; i <= 40; i++) devices.forEach((device, d) => device.send(telemetry(`d${d}-${i}`, { temperature: i, humidity: 50 })));
  const acks = devices.map(async (device, d) => {
    for (let i = 1; i <= 40; i++) assert.deepEqual(await device.nextFrame(), { type: 'ack', id: `d${d}-${i}` });
  });
  await withDeadline(Promise.all(acks), 20_000, 'all 200 acks');
  const delivered = new Map<string, number>();
  while (delivered.size < 200) {
    const id = (await backend.nextMessage()).payload.id as string;
    delivered.set(id, (delivered.get(id) ?? 0) + 1);
  }
  await assert.rejects(backend.nextMessage(300), /no MQTT message/, 'nothing delivered twice');

  const metrics = await (await fetch(`${gw.addresses.http}/metrics`)).text();
  assert.match(metrics, /^wmg_device_publishes_in_flight 0$/m);
});
