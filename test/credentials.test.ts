// Tokens and passwords never leave the gateway: not on any MQTT topic, not in a
// dead letter, not in a log line, whatever a device or a caller does with them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../gateway/log.js';
import { connectBackend } from './helpers/backend.js';
import { connectDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

test('a hello after header auth is refused with bad_frame, never dead-lettered; token-shaped strings in dead letters are redacted', async (t) => {
  const lines: string[] = [];
  const gw = await startTestGateway({ log: { level: 'debug' } }, undefined, (line) => lines.push(line));
  t.after(() => gw.close());
  const password = 'pw-everything';
  const backend = await connectBackend(gw, { sub: ['#'] }, 'everything');
  await backend.subscribe('#');
  t.after(() => backend.close());
  const token = await provision(gw, 'dev-1');
  const device = await connectDevice(gw, token);

  // The client-library bug: the header was sent, and then the hello too, twice.
  for (const id of ['h-1', 'h-2']) {
    device.send({ type: 'hello', id, token });
    const refused = await device.nextFrame();
    assert.deepEqual([refused.type, refused.id, refused.code], ['error', id, 'bad_frame']);
  }
  // Dead-lettered frames that carry secrets: a token inside data, a JWT, a "password" field, and broken JSON around a token.
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJkZXYtMSJ9.c2lnbmF0dXJl';
  device.send(telemetry('t-1', { temperature: 'hot', note: `my token is ${token}` }));
  device.send({ type: 'telemetry', id: 't-2', data: { temperature: 1 }, auth: jwt });
  device.send({ type: 'state', id: 's-1', state: { password: 'hunter2-secret' } });
  device.send(`{"type":"telemetry","token":"${token}"`);
  device.send(telemetry('ok-1', { temperature: 21, humidity: 40 }));

  const frames = [];
  for (let i = 0; i < 5; i++) frames.push(await device.nextFrame());
  assert.deepEqual(frames.map((f) => f.code ?? f.type), ['invalid_telemetry', 'invalid_telemetry', 'invalid_state', 'bad_json', 'ack']);

  // Everything published, in order: the presence, four dead letters, then the one valid reading.
  const seen: string[] = [];
  for (;;) {
    const message = await backend.nextMessage();
    seen.push(`${message.topic} ${JSON.stringify(message.payload)}`);
    if (message.topic === 'devices/dev-1/telemetry') break;
  }
  const deadLetters = seen.filter((line) => line.startsWith('gateway/deadletter/dev-1'));
  assert.equal(deadLetters.length, 4, 'the two hellos were not dead-lettered');
  assert.ok(deadLetters.every((line) => line.includes('[redacted]')), deadLetters.join('\n'));
  for (const secret of [token, token.slice(4, 24), jwt, 'hunter2-secret']) {
    assert.ok(!seen.some((line) => line.includes(secret)), `MQTT carried ${secret}`);
    assert.ok(!lines.some((line) => line.includes(secret)), `the log carried ${secret}`);
  }
  assert.ok(!lines.some((line) => line.includes(password)));
  await device.close();
});

test('the logger redacts token, password and authorization fields whoever passes them', () => {
  const lines: string[] = [];
  const log = createLogger('debug', (line) => lines.push(line));
  log.info('careless caller', {
    token: 'wmg_secret-one',
    password: 'secret-two',
    user: { password: 'secret-three' },
    req: { headers: { authorization: 'Bearer secret-four', host: 'x' } },
    authorization: 'Basic secret-five',
    device: 'dev-1',
  });
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(entry.msg, 'careless caller');
  assert.equal(entry.level, 'info');
  assert.equal(entry.device, 'dev-1');
  assert.match(String(entry.time), /^\d{4}-\d\d-\d\dT/);
  for (const secret of ['secret-one', 'secret-two', 'secret-three', 'secret-four', 'secret-five']) assert.ok(!lines[0]!.includes(secret), secret);
});
