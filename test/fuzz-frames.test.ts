// Property-based fuzzing of the device frame path (issue 10, point 11): frames
// seeded from every shipped model's schemas, then mutated in structure, types,
// sizes, unicode and nesting, are pipelined into a real gateway over real
// sockets. For each one: exactly one ack or error, with a code from ERRORS and
// the documented id; only valid payloads on the data topics, exactly the acked
// ones; a dead letter per refused frame; no uncaught exception, no error log;
// and the connection still answers a valid frame afterwards.
//
// A bounded seeded run here; `npm run fuzz` runs the same property for long.
// FUZZ_SEED, FUZZ_FRAMES (and FUZZ_PATH, printed with a failure) override it;
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERRORS } from '../gateway/errors.js';
import { subscribedBackend } from './helpers/backend.js';
import { connectDevice, openDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';
import { epochMsOf } from './fuzz/expect-reply.js';
import { FuzzSession, FUZZ_GATEWAY_OVERRIDES } from './fuzz/fuzz-session.js';
import { optionsFromEnv, runFrameFuzz } from './fuzz/run-fuzz.js';

const options = optionsFromEnv({
  seed: 0x5eed,
  frames: 20_000,
  window: 256,
  shrinkBudgetMs: 20_000,
  log: (line) => console.log(line),
});

test(`fuzzed device frames (seed ${options.seed}, ${options.frames} frames): one right answer each, nothing invalid on MQTT, the connection stays usable`, async (t) => {
  const session = await FuzzSession.start();
  t.after(() => session.close());
  const started = Date.now();
  console.log(`frame fuzz: seed ${options.seed}, ${options.frames} frames, window ${options.window} (override with FUZZ_SEED / FUZZ_FRAMES)`);
  const { rounds, runs } = await runFrameFuzz(session, options);
  const { stats } = session;
  console.log(`frame fuzz: ${stats.frames} frames in ${runs} fast-check runs (batches) over ${rounds} rounds (seeds ${options.seed}..${options.seed + rounds - 1}), ${Date.now() - started} ms; replies ${JSON.stringify(stats.replies)}, ${stats.withoutId} without id, ${stats.binary} binary, largest ${stats.largestFrame} bytes`);

  assert.ok(stats.frames >= options.frames);
  // The run is worth something only if the generators reach every answer the
  // frame path can give; a generator that only ever made bad JSON would pass the rest.
  for (const kind of ['ack', 'bad_json', 'bad_frame', 'invalid_telemetry', 'invalid_state', 'invalid_command_result']) {
    assert.ok((stats.replies[kind] ?? 0) > 0, `no frame was answered with ${kind}`);
  }
  assert.ok(stats.withoutId > 0, 'no error came back without an id');
  assert.ok(stats.largestFrame > 16_384, 'no large frame was sent');
  assert.ok(Object.keys(stats.replies).every((code) => code === 'ack' || code in ERRORS));
});

test('a frame of exactly maxFrameBytes is answered; one byte more closes with 1009 and the device can reconnect', async (t) => {
  const gw = await startTestGateway(FUZZ_GATEWAY_OVERRIDES);
  t.after(() => gw.close());
  const token = await provision(gw, 'big-1');
  const device = await openDevice(gw, token);
  const welcome = await device.nextFrame();
  const max = welcome.maxFrameBytes as number;
  // JSON allows any amount of whitespace: pad a valid frame to an exact size.
  const frame = (id: string, bytes: number): string => {
    const text = JSON.stringify(telemetry(id, { temperature: 20, humidity: 50 }));
    return text.slice(0, -1) + ' '.repeat(bytes - Buffer.byteLength(text)) + '}';
  };
  device.send(frame('at-limit', max));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'at-limit' });
  device.send(frame('over-limit', max + 1));
  assert.equal((await device.closed).code, ERRORS.frame_too_large.close);

  const again = await connectDevice(gw, token);
  again.send(telemetry('after-reconnect', { temperature: 20, humidity: 50 }));
  assert.deepEqual(await again.nextFrame(), { type: 'ack', id: 'after-reconnect' });
  await again.close();
});

test('a text frame that is not UTF-8 fails the connection (1007, RFC 6455) and the device can reconnect', async (t) => {
  const gw = await startTestGateway(FUZZ_GATEWAY_OVERRIDES);
  t.after(() => gw.close());
  const token = await provision(gw, 'utf8-1');
  const device = await connectDevice(gw, token);
  // A lone surrogate written as raw UTF-8 (ED A0 80), inside an otherwise valid frame.
  const bytes = Buffer.concat([Buffer.from('{"type":"telemetry","id":"m-1","data":{"temperature":20,"humidity":50},"x":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]);
  device.ws.send(bytes, { binary: false });
  assert.equal((await device.closed).code, 1007);

  const again = await connectDevice(gw, token);
  again.send(telemetry('after-reconnect', { temperature: 20, humidity: 50 }));
  assert.deepEqual(await again.nextFrame(), { type: 'ack', id: 'after-reconnect' });
  await again.close();
});

// Found by the fuzzer, fixed in gateway/device/validate.ts.
test('error paths escape "/" and "~" in property names, so they point into the frame (RFC 6901)', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  device.send({ ...telemetry('m-1', { temperature: 20, humidity: 50, 'a/b': 1 }), '~x': 2 });
  const refused = await device.nextFrame();
  assert.equal(refused.code, 'invalid_telemetry');
  assert.deepEqual((refused.errors as Array<{ path: string }>).map((e) => e.path).sort(), ['/data/a~1b', '/~0x']);
  await device.close();
});

// Found by the fuzzer, and fixed: retained states lost for live subscribers (aedes dropped one
// overtaken by a later publish; gateway/broker/persistence keeps publish order), and ts parsing (epoch-ms.ts).
test('every acked state reaches a live subscriber, even with another state and a telemetry right behind it', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/state', 'devices/+/telemetry');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  // Sent together: the second state's store waits for the first's, and the telemetry overtakes it.
  device.send({ type: 'state', id: 's-1', state: { firmware: '1.0.0' } });
  device.send({ type: 'state', id: 's-2', state: { firmware: '1.0.1' } });
  device.send(telemetry('m-1', { temperature: 20, humidity: 50 }));
  const acks = [await device.nextFrame(), await device.nextFrame(), await device.nextFrame()];
  assert.deepEqual(acks.map((f) => f.type), ['ack', 'ack', 'ack']);
  const published = [];
  for (let i = 0; i < 3; i++) {
    const { topic, payload } = await backend.nextMessage(3000);
    published.push(topic.endsWith('/state') ? (payload.state as { firmware: string }).firmware : payload.id);
  }
  assert.deepEqual(published.sort(), ['1.0.0', '1.0.1', 'm-1']);
  await device.close();
});

test('a date-time ts that passes validation is published as its epoch ms', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const backend = await subscribedBackend(gw, 'devices/+/telemetry');
  t.after(() => backend.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  // Published today as null, as 2049-01-01 and as null. A fix may also refuse them (a contract
  // change: then FrameOracle must refuse them too); what it may not do is publish a wrong time.
  const cases = [
    { ts: '2016-12-31T23:59:60Z', epochMs: Date.UTC(2017, 0, 1), slackMs: 1000 }, // the second before or after
    { ts: '0049-01-01 00:00:00Z', epochMs: epochMsOf('0049-01-01T00:00:00Z'), slackMs: 0 },
    { ts: '0013-01-01 00:00:00Z', epochMs: epochMsOf('0013-01-01T00:00:00Z'), slackMs: 0 },
  ];
  for (const { ts, epochMs, slackMs } of cases) {
    device.send(telemetry('m-1', { temperature: 20, humidity: 50 }, ts));
    const reply = await device.nextFrame();
    if (reply.type === 'error') {
      assert.equal(reply.code, 'invalid_telemetry', ts);
      continue;
    }
    const published = (await backend.nextMessage()).payload.ts as number;
    assert.ok(published <= epochMs && published >= epochMs - slackMs, `${ts} published as ts ${published}, not ${epochMs}`);
  }
  await device.close();
});
