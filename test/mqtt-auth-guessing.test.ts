// Password guessing on the MQTT port cannot lock anyone out (issue 10, point 7):
// known backends are recalled without the KDF, KDF work is bounded and refused past
// the bound with CONNACK 3, an address that keeps failing is slowed down, devices
// are unaffected, and no wrong password ever gets in.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { addressKey, LoginFailures } from '../gateway/broker/login-failures.js';
import { UserRegistry } from '../gateway/registry/users.js';
import { openStore } from '../gateway/store/open-store.js';
import { connectDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway, tempDataDir, type TestGateway } from './helpers/gateway.js';
import { guessFlood, type Guess, type GuessFlood } from './helpers/guess-flood.js';
import { mqttClient, tryConnect as tryConnectTo, type ConnectOptions, type ConnectOutcome } from './helpers/try-connect.js';
import { SqliteUserRows } from '../gateway/registry/sqlite-user-rows.js';

const tryConnect = (gw: TestGateway, username: string, password: string, options?: ConnectOptions): Promise<ConnectOutcome> =>
  tryConnectTo(gw.addresses.mqtt, username, password, options);

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

// Guesses from 30 loopback addresses, as from a small botnet: more than any one
// address may have in progress, so the global queue bound is what they run into.
const BOTNET = (i: number): string => `127.0.1.${(i % 30) + 1}`;

interface Flood extends GuessFlood {
  passwords: string[];
}

/** `count` wrong passwords at once, half for a real user name, half for unknown ones. */
function flood(t: TestContext, gw: TestGateway, realUser: string, count: number, from?: (i: number) => string): Flood {
  const guesses: Guess[] = Array.from({ length: count }, (_, i) => ({
    username: i % 2 === 0 ? realUser : `nobody-${i}`,
    password: `guess-${i}-${Math.random().toString(36).slice(2)}`,
    ...(from ? { from: from(i) } : {}),
  }));
  const running = guessFlood(gw.addresses.mqtt, guesses);
  t.after(() => running.stop());
  return { ...running, passwords: guesses.map((g) => g.password) };
}

function assertAllRefused(outcomes: ConnectOutcome[]): void {
  for (const outcome of outcomes) {
    assert.notEqual(outcome.kind, 'connected', 'a wrong password was accepted');
    if (outcome.kind === 'refused') assert.ok([3, 4].includes(outcome.code!), `CONNACK ${outcome.code}`);
  }
}

const tally = (outcomes: ConnectOutcome[]): Record<string, number> =>
  outcomes.reduce<Record<string, number>>((counts, o) => {
    const key = o.kind === 'refused' ? String(o.code) : o.kind;
    counts[key] = (counts[key] ?? 0) + 1;
    return counts;
  }, {});

interface LogLine {
  msg: string;
  code?: string;
  cached?: boolean;
  running?: number;
  queued?: number;
}

async function gatewayWithLog(overrides: Record<string, unknown> = {}): Promise<{ gw: TestGateway; lines: string[]; log: () => LogLine[] }> {
  const lines: string[] = [];
  const gw = await startTestGateway({ log: { level: 'debug' }, ...overrides }, undefined, (line) => lines.push(line));
  return { gw, lines, log: () => lines.map((line) => JSON.parse(line) as LogLine) };
}

test('with 300 wrong passwords in flight, a backend that logged in before reconnects without waiting for them (target < 2 s) and device acks stay under 1 s', async (t) => {
  const { gw, lines, log } = await gatewayWithLog();
  t.after(() => gw.close());
  await gw.users.add('svc', 'the-right-password', [], ['devices/#']);
  assert.equal((await tryConnect(gw, 'svc', 'the-right-password')).kind, 'connected'); // one KDF run, then remembered
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  t.after(() => device.close());

  const guesses = flood(t, gw, 'svc', 300, BOTNET);
  let flooding = true;
  const ackMs: number[] = [];
  const acks = (async () => {
    for (let n = 0; flooding; n++) {
      const sent = Date.now();
      device.send(telemetry(`m-${n}`, { temperature: 20, humidity: 40 }));
      assert.deepEqual(await device.nextFrame(5000), { type: 'ack', id: `m-${n}` });
      ackMs.push(Date.now() - sent);
      // Paced below limits.messagesPerSec (100/s): this measures latency, not the rate limit.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  acks.catch(() => {}); // awaited below; a failure meanwhile must not count as unhandled

  await withDeadline(guesses.allSent, 15_000, 'all guesses sent');
  const reconnect = await tryConnect(gw, 'svc', 'the-right-password');
  const stillInFlight = guesses.pending();
  const outcomes = await guesses.outcomes;
  flooding = false;
  await withDeadline(acks, 6000, 'last device ack');

  assert.equal(reconnect.kind, 'connected');
  // The target is < 2 s (docs/reliability.md: 0.79 s on a quiet machine). What is left of the time
  // is the broker answering the refused CONNECTs queued ahead, ~1 ms of CPU each, so with other test
  // files on the same 2 cores it can pass 2 s; the bound here is what tells a lock-out (every check
  // waiting its KDF turn: 300 x ~100 ms / 2 slots = 15 s) from the protection working.
  t.diagnostic(`known backend reconnected in ${reconnect.ms} ms with ${stillInFlight} guesses still in flight`);
  assert.ok(reconnect.ms < 5000, `reconnect took ${reconnect.ms} ms`);
  assert.ok(stillInFlight > 0, 'the reconnect happened while guesses were still being checked');
  assert.ok(ackMs.length > 0);
  assert.ok(Math.max(...ackMs) < 1000, `slowest device ack ${Math.max(...ackMs)} ms`);
  assertAllRefused(outcomes);
  const counts = tally(outcomes);
  assert.ok((counts['3'] ?? 0) > 0, 'past the queue, guesses are refused at once with CONNACK 3');
  assert.ok((counts['4'] ?? 0) > 0, 'guesses that were checked get CONNACK 4');

  const accepted = log().filter((line) => line.msg === 'mqtt connect accepted');
  assert.deepEqual(accepted.map((line) => line.cached), [false, true], 'the reconnect was recalled, not re-derived');
  assert.ok(log().some((line) => line.code === 'auth_busy'));
  const text = lines.join('');
  for (const password of [...guesses.passwords, 'the-right-password']) assert.ok(!text.includes(password), 'no password in the log');
  t.diagnostic(`reconnect ${reconnect.ms} ms with ${stillInFlight} guesses in flight; ${ackMs.length} device acks, slowest ${Math.max(...ackMs)} ms; guesses ${JSON.stringify(counts)}`);
});

test('a user that never logged in gets through a flood from 30 addresses: refused only with CONNACK 3, then in on a retry', async (t) => {
  const { gw } = await gatewayWithLog();
  t.after(() => gw.close());
  await gw.users.add('fresh', 'fresh-password', [], ['devices/#']);
  const guesses = flood(t, gw, 'fresh', 300, BOTNET);
  await withDeadline(guesses.allSent, 15_000, 'all guesses sent');

  // mqtt.js retries on its own after a refusal, as a deployed backend would.
  const started = Date.now();
  const backend = mqttClient(gw.addresses.mqtt, 'fresh', 'fresh-password', { from: '127.0.0.2', reconnectPeriod: 200 });
  t.after(() => backend.end(true));
  const refusals: Array<{ code: unknown; ms: number }> = [];
  let attemptAt = started;
  backend.on('reconnect', () => (attemptAt = Date.now()));
  backend.on('error', (err: Error & { code?: unknown }) => refusals.push({ code: err.code, ms: Date.now() - attemptAt }));
  // The deadline allows for the queue to drain on a slow machine (18 scrypt runs, two at a time).
  await withDeadline(new Promise<void>((resolve) => backend.once('connect', () => resolve())), 20_000, 'fresh user connected');
  const tookMs = Date.now() - started;
  // Never 4: a right password is never reported wrong because the gateway is busy.
  assert.ok(refusals.every((r) => r.code === 3), `refusals: ${JSON.stringify(refusals)}`);
  assertAllRefused(await guesses.outcomes);
  t.diagnostic(`fresh user in after ${tookMs} ms; CONNACK 3 refusals after ${refusals.map((r) => `${r.ms} ms`).join(', ') || 'none'}`);
});

test('a flood from one address holds two checks at most: a user that never logged in, from elsewhere, gets in on its first try', async (t) => {
  const { gw, log } = await gatewayWithLog();
  t.after(() => gw.close());
  await gw.users.add('fresh', 'fresh-password', [], ['devices/#']);
  const guesses = flood(t, gw, 'fresh', 300);
  await withDeadline(guesses.allSent, 15_000, 'all guesses sent');
  const fresh = await tryConnect(gw, 'fresh', 'fresh-password', { from: '127.0.0.2' });
  const stillInFlight = guesses.pending();
  const outcomes = await guesses.outcomes;
  assert.equal(fresh.kind, 'connected', 'not refused: the guesses left the queue to others');
  assertAllRefused(outcomes);
  assert.ok(log().some((line) => line.code === 'auth_throttled'));
  assert.ok(!log().some((line) => line.code === 'auth_busy'), 'one address never fills the queue');
  t.diagnostic(`fresh user in after ${fresh.ms} ms with ${stillInFlight} guesses in flight; guesses ${JSON.stringify(tally(outcomes))}`);
});

test('an address that keeps failing is slowed down, and other addresses are not', async (t) => {
  const { gw } = await gatewayWithLog();
  t.after(() => gw.close());
  await gw.users.add('svc', 'right', [], ['#']);
  await gw.users.add('other', 'right-too', [], ['#']);
  // One after another, as a patient guesser would: 3 free failures, then 0.25 s, 0.5 s, 1 s apart.
  for (let i = 0; i < 6; i++) assert.equal((await tryConnect(gw, 'svc', `wrong-${i}`)).code, 4);

  const late = await tryConnect(gw, 'svc', 'right');
  const fromElsewhere = await tryConnect(gw, 'other', 'right-too', { from: '127.0.0.3' }); // not remembered either: one scrypt run
  assert.equal(late.kind, 'connected', 'the right password still gets in from the failing address');
  assert.ok(late.ms >= 500, `the failing address waited only ${late.ms} ms`);
  assert.equal(fromElsewhere.kind, 'connected');
  assert.ok(fromElsewhere.ms < late.ms, `another address took ${fromElsewhere.ms} ms, the failing one ${late.ms} ms`);
  t.diagnostic(`after 6 failures the right password took ${late.ms} ms from that address, ${fromElsewhere.ms} ms from another`);
});

test('CONNECTs past mqtt.authConcurrency + mqtt.authQueue are refused with CONNACK 3 (auth_busy) at once', async (t) => {
  const { gw, log } = await gatewayWithLog({ mqtt: { authConcurrency: 1, authQueue: 1 } });
  t.after(() => gw.close());
  const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => tryConnect(gw, `nobody-${i}`, 'x', { from: `127.0.2.${i + 1}` })));
  assertAllRefused(outcomes);
  const counts = tally(outcomes);
  assert.ok((counts['3'] ?? 0) >= 1 && (counts['4'] ?? 0) >= 2, JSON.stringify(counts));
  const busy = log().find((line) => line.code === 'auth_busy');
  assert.deepEqual([busy?.running, busy?.queued], [1, 1]);
});

test('users remove drops the remembered login; added again with a new password, only the new one gets in', async (t) => {
  const { gw, log } = await gatewayWithLog();
  t.after(() => gw.close());
  const cachedFlags = (): Array<boolean | undefined> => log().filter((l) => l.msg === 'mqtt connect accepted').map((l) => l.cached);
  await gw.users.add('svc', 'old-password', [], ['#']);
  assert.equal((await tryConnect(gw, 'svc', 'old-password')).kind, 'connected');
  assert.equal((await tryConnect(gw, 'svc', 'old-password')).kind, 'connected');
  assert.deepEqual(cachedFlags(), [false, true]);

  assert.ok((await gw.users.remove('svc')).ok);
  assert.deepEqual(await tryConnect(gw, 'svc', 'old-password').then((o) => [o.kind, o.code]), ['refused', 4]);
  await gw.users.add('svc', 'new-password', [], ['#']);
  assert.deepEqual(await tryConnect(gw, 'svc', 'old-password').then((o) => [o.kind, o.code]), ['refused', 4]);
  assert.equal((await tryConnect(gw, 'svc', 'new-password')).kind, 'connected');
  assert.equal((await tryConnect(gw, 'svc', 'new-password')).kind, 'connected');
  assert.deepEqual(cachedFlags(), [false, true, false, true], 'the new password was checked with the KDF first');
});

test('a remembered login is recalled only with the same password and stored hash, and not after forgetLogins', async (t) => {
  const dataDir = tempDataDir();
  const store = openStore(dataDir);
  t.after(() => {
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const users = new UserRegistry(new SqliteUserRows(store));
  await users.add('svc', 'pw', [], ['#']);
  assert.equal(await users.recall('svc', 'pw'), undefined, 'nothing is remembered before a check');
  assert.equal((await users.verify('svc', 'pw'))?.name, 'svc');
  assert.equal((await users.recall('svc', 'pw'))?.name, 'svc');
  assert.equal(await users.recall('svc', 'wrong'), undefined);
  users.forgetLogins('svc');
  assert.equal(await users.recall('svc', 'pw'), undefined);

  // Removed and added again by another process (the CLI): the stored hash is new.
  assert.equal((await users.verify('svc', 'pw'))?.name, 'svc');
  const cli = new UserRegistry(new SqliteUserRows(store));
  assert.ok((await cli.remove('svc')).ok);
  await cli.add('svc', 'pw', [], ['#']);
  assert.equal(await users.recall('svc', 'pw'), undefined, 'same password, new hash: checked again');
});

test('failures are counted per IPv4 address and per IPv6 /64, in a bounded map', () => {
  assert.equal(addressKey('10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(addressKey('2001:db8:1:2::dead:beef'), '2001:db8:1:2::/64');
  assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.equal(addressKey(undefined), 'unknown');

  const failures = new LoginFailures({ freeFailures: 0, baseDelayMs: 100, maxDelayMs: 1000, forgetAfterMs: 60_000, maxAddresses: 3 });
  for (const address of ['a', 'b', 'c', 'd']) failures.recordFailure(address, 0);
  assert.equal(failures.size, 3);
  assert.equal(failures.reserve('a', 0), 0, 'the oldest address was forgotten');
  assert.equal(failures.reserve('d', 0), 100, 'one failure: the next check waits 100 ms');
  assert.equal(failures.reserve('d', 0), 200, 'and the one after it waits its turn');
  for (let i = 0; i < 4; i++) failures.recordFailure('c', 0);
  assert.equal(failures.reserve('c', 0), 1000, 'spacing doubles per failure up to maxDelayMs');
  assert.equal(failures.reserve('c', 0), undefined, 'a check that would wait past maxDelayMs is refused');
  assert.equal(failures.reserve('b', 60_001), 0, 'forgotten after forgetAfterMs');
});
