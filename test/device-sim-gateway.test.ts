import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../device-sim/stats.js';
import { countMqtt, type MqttCounts } from './helpers/count-mqtt.js';
import { runCli, SIM_BIN, spawnGateway, type GatewayProcess } from './helpers/cli.js';
import { startRelay } from './helpers/tcp-relay.js';
import { waitFor } from './helpers/wait-for.js';

// The device-sim CLI against the real gateway CLI, both as child processes,
// with an MQTT subscriber counting what actually came out of the broker.

const PASSWORD = 'watcher-secret';

/** Adds an MQTT user that may read everything under devices/ and gateway/, and publish commands. */
async function addWatcher(dataDir: string, name: string, password: string): Promise<void> {
  const result = await runCli(
    ['users', 'add', name, '--password-stdin', '--allow-sub', 'devices/#', '--allow-sub', 'gateway/#', '--allow-pub', 'devices/+/commands', '--data-dir', dataDir],
    { stdin: password },
  );
  if (result.code !== 0) throw new Error(`users add failed: ${result.stderr}`);
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

interface Setup {
  dir: string;
  dataDir: string;
  tokens: string;
  gateway: GatewayProcess;
  mqtt: MqttCounts;
}

async function setUp(t: { after(fn: () => unknown): void }, devices: number, model = 'env-sensor'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'device-sim-gw-'));
  const dataDir = join(dir, 'data');
  const tokens = join(dir, 'tokens.json');
  const provisioned = await runCli(['provision', '--count', String(devices), '--prefix', 'sim-', '--model', model, '--data-dir', dataDir, '--out', tokens], { bin: SIM_BIN });
  assert.equal(provisioned.code, 0, provisioned.stderr);
  await addWatcher(dataDir, 'watcher', PASSWORD);
  const gateway = await spawnGateway(dataDir);
  const mqtt = await countMqtt(gateway.addresses.mqtt, 'watcher', PASSWORD);
  const setup = { dir, dataDir, tokens, gateway, mqtt };
  t.after(async () => {
    await setup.mqtt.client.endAsync(true);
    await setup.gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return setup;
}

function parseSummary(stdout: string): RunSummary {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `--json prints exactly one line on stdout, got: ${stdout}`);
  return JSON.parse(lines[0]!) as RunSummary;
}

test('a simulated fleet is accepted and acked, and the --json counts equal what an MQTT subscriber saw', { timeout: 60_000 }, async (t) => {
  const setup = await setUp(t, 25, 'tracker');
  const run = await runCli([
    'run', '--url', setup.gateway.addresses.ws, '--tokens', setup.tokens, '--devices', '20',
    '--rate', '5/s', '--duration', '3s', '--seed', '7', '--insecure', '--json',
  ], { bin: SIM_BIN });
  assert.equal(run.code, 0, run.stderr);
  const summary = parseSummary(run.stdout);
  assert.equal(summary.devices, 20);
  assert.ok(summary.sent > 200, `sent ${summary.sent}`);
  assert.equal(summary.acked, summary.sent);
  assert.equal(summary.unacked, 0);
  assert.deepEqual(summary.errors, {});
  assert.ok(summary.ackLatencyMs.p50 !== null && summary.ackLatencyMs.p99 !== null);
  await waitFor('every acked message on MQTT', () => setup.mqtt.telemetry.size >= summary.acked);
  assert.equal(setup.mqtt.telemetry.size, summary.acked);
  assert.equal(new Set([...setup.mqtt.telemetry].map((key) => key.split('/')[0])).size, 20);
});

test('--invalid-rate readings become dead letters, and the error counts match them', { timeout: 60_000 }, async (t) => {
  const setup = await setUp(t, 10, 'meter');
  const run = await runCli([
    'run', '--url', setup.gateway.addresses.ws, '--tokens', setup.tokens,
    '--rate', '10/s', '--duration', '3s', '--invalid-rate', '0.1', '--insecure', '--json',
  ], { bin: SIM_BIN });
  assert.equal(run.code, 0, run.stderr);
  const summary = parseSummary(run.stdout);
  const invalid = summary.errors.invalid_telemetry ?? 0;
  assert.ok(invalid > 5, `invalid_telemetry ${invalid}`);
  assert.equal(summary.rejected, invalid);
  assert.equal(summary.sent, summary.acked + summary.rejected);
  await waitFor('dead letters', () => setup.mqtt.deadLetters.length >= invalid && setup.mqtt.telemetry.size >= summary.acked);
  assert.equal(setup.mqtt.deadLetters.length, invalid);
  assert.ok(setup.mqtt.deadLetters.every((letter) => letter.code === 'invalid_telemetry'));
  assert.equal(setup.mqtt.telemetry.size, summary.acked);
});

test('devices reconnect after a gateway restart and resend what was not acked; nothing acked is lost', { timeout: 180_000 }, async (t) => {
  const setup = await setUp(t, 20);
  const relay = await startRelay(portOf(setup.gateway.addresses.ws));
  t.after(() => relay.close());
  // No --duration: stopped with Ctrl-C (SIGINT) once the restart is over, like a user would.
  const sim = spawn(process.execPath, [
    SIM_BIN, 'run', '--url', `wss://127.0.0.1:${relay.port}/v1/device`, '--tokens', setup.tokens, '--rate', '10/s',
    // Drain ends as soon as all is acked; the bound only matters on a loaded machine, where
    // backoff can keep devices away for tens of seconds and the backlog then takes a while.
    '--drain', '60s', '--insecure', '--json',
  ]);
  t.after(() => sim.kill('SIGKILL'));
  let stdout = '';
  sim.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await waitFor('telemetry flowing', () => setup.mqtt.telemetry.size >= 200);
  // The subscriber stays on until the gateway is gone, to see all it published.
  relay.target = undefined;
  await setup.gateway.stop();
  await setup.mqtt.client.endAsync(true);
  const beforeRestart = setup.mqtt.telemetry.size;
  // Devices keep measuring and buffering while they retry against the dead port.
  await waitFor('devices retrying', () => relay.refused >= 20);
  setup.gateway = await spawnGateway(setup.dataDir);
  setup.mqtt.online.clear();
  await countMqtt(setup.gateway.addresses.mqtt, 'watcher', PASSWORD, setup.mqtt);
  relay.target = portOf(setup.gateway.addresses.ws);
  // Backoff after several refusals can reach a few seconds; presence says when all are back.
  await waitFor('all 20 devices back online', () => setup.mqtt.online.size === 20, 60_000);
  await waitFor('buffered readings delivered', () => setup.mqtt.telemetry.size > beforeRestart + 300);
  sim.kill('SIGINT');
  const [code] = (await once(sim, 'exit')) as [number];
  assert.equal(code, 0);
  const summary = parseSummary(stdout);
  assert.ok(summary.reconnects >= 20, `reconnects ${summary.reconnects}`);
  assert.ok(summary.connectFailures > 0, 'devices kept trying while it was down');
  assert.equal(summary.unacked, 0, stdout);
  assert.equal(summary.dropped, 0);
  assert.equal(summary.acked, summary.sent, 'everything sent, including what was buffered or in flight, was acked');
  await waitFor('all acked messages on MQTT', () => setup.mqtt.telemetry.size >= summary.acked);
  // Distinct ids across both gateway lives: every acked message is there, none missing.
  assert.equal(setup.mqtt.telemetry.size, summary.acked);
});

test('commands from an MQTT backend are handled by the simulated devices end to end', { timeout: 60_000 }, async (t) => {
  const setup = await setUp(t, 1, 'env-sensor');
  for (const model of ['tracker', 'meter']) {
    const added = await runCli(['provision', '--count', '1', '--prefix', `${model}-`, '--model', model, '--data-dir', setup.dataDir, '--out', setup.tokens], { bin: SIM_BIN });
    assert.equal(added.code, 0, added.stderr);
  }
  const statuses = new Map<string, { status: string; result?: Record<string, unknown>; error?: { code: string } }>();
  setup.mqtt.client.on('message', (topic, payload) => {
    if (!topic.endsWith('/status')) return;
    const event = JSON.parse(payload.toString()) as { id: string; status: string };
    if (event.status !== 'accepted' && event.status !== 'delivered') statuses.set(event.id, event);
  });
  await setup.mqtt.client.subscribeAsync('devices/+/commands/+/status', { qos: 1 });
  const sim = spawn(process.execPath, [SIM_BIN, 'run', '--url', setup.gateway.addresses.ws, '--tokens', setup.tokens, '--insecure', '--json']);
  t.after(() => sim.kill('SIGKILL'));
  let stdout = '';
  sim.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await waitFor('3 devices online', () => setup.mqtt.online.size === 3);
  const command = (device: string, id: string, name: string, params: Record<string, unknown>): Promise<unknown> =>
    setup.mqtt.client.publishAsync(`devices/${device}/commands`, JSON.stringify({ id, name, params }), { qos: 1 });
  await command('sim-0001', 'c-ping', 'ping', {});
  await command('sim-0001', 'c-interval', 'set_interval', { seconds: 2 });
  await command('sim-0001', 'c-calibrate', 'calibrate', { offset: -1.5 });
  await command('tracker-0001', 'c-locate', 'locate', {});
  await command('meter-0001', 'c-relay', 'set_relay', { on: false });
  await command('meter-0001', 'c-reboot', 'reboot', { delayMs: 500 });
  await waitFor('6 results', () => statuses.size === 6);
  for (const [id, event] of statuses) assert.equal(event.status, 'succeeded', `${id}: ${JSON.stringify(event)}`);
  assert.equal(typeof statuses.get('c-ping')!.result!.uptimeSec, 'number');
  assert.deepEqual(statuses.get('c-interval')!.result, { seconds: 2 });
  assert.deepEqual(statuses.get('c-calibrate')!.result, { offset: -1.5 });
  assert.equal(typeof statuses.get('c-locate')!.result!.lat, 'number');
  assert.deepEqual(statuses.get('c-relay')!.result, { relay: 'off' });
  // The rebooted meter goes offline, comes back on its own, and answers again.
  await waitFor('meter offline', () => !setup.mqtt.online.has('meter-0001'));
  await waitFor('meter back', () => setup.mqtt.online.has('meter-0001'));
  await command('meter-0001', 'c-ping-2', 'ping', {});
  await waitFor('ping after reboot', () => statuses.has('c-ping-2'));
  assert.equal(statuses.get('c-ping-2')!.status, 'succeeded');
  assert.ok((statuses.get('c-ping-2')!.result!.uptimeSec as number) < 5, 'uptime restarted at the reboot');
  sim.kill('SIGINT');
  await once(sim, 'exit');
  const summary = parseSummary(stdout);
  assert.equal(summary.commands, 7);
  assert.ok(summary.reconnects >= 1);
  assert.equal(summary.acked, summary.sent);
});

test("a newcomer's `npm run demo` provisions into the data dir and runs 10 devices; a second run reuses them", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'device-sim-demo-'));
  const dataDir = join(dir, 'data');
  const gateway = await spawnGateway(dataDir);
  t.after(async () => {
    await gateway.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
  const demo = (): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      // Exactly what the README tells a newcomer to type, plus test-only overrides.
      const npm = spawn('npm', ['run', '--silent', 'demo', '--', '--data-dir', dataDir, '--url', gateway.addresses.ws, '--duration', '2s', '--json'], {
        cwd: packageRoot,
      });
      let stdout = '';
      let stderr = '';
      npm.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      npm.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      npm.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
  const first = await demo();
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /npm start/, 'tells the newcomer the gateway must run');
  const summary = parseSummary(first.stdout);
  assert.equal(summary.devices, 10);
  assert.equal(summary.connected, 10);
  assert.ok(summary.acked > 0);
  assert.equal(summary.acked, summary.sent);
  const tokens = JSON.parse(readFileSync(join(dataDir, 'demo-tokens.json'), 'utf8')) as unknown[];
  assert.equal(tokens.length, 10);
  const second = await demo();
  assert.equal(second.code, 0, second.stderr);
  assert.equal(parseSummary(second.stdout).unauthorized, 0);
  assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'demo-tokens.json'), 'utf8')), tokens, 'same devices, same tokens');
});

test('without --insecure the self-signed dev certificate is refused, and the summary says why', { timeout: 60_000 }, async (t) => {
  const setup = await setUp(t, 2);
  const run = await runCli(['run', '--url', setup.gateway.addresses.ws, '--tokens', setup.tokens, '--duration', '1s'], { bin: SIM_BIN });
  assert.equal(run.code, 0);
  assert.match(run.stdout, /--insecure/);
  assert.equal(setup.mqtt.telemetry.size, 0);
});
