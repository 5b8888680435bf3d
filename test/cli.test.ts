// The CLI contract outside tools are written against: `start --json`,
// `devices add --json`, exit codes, signals, and config precedence.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { collect, runCli, spawnGateway } from './helpers/cli.js';
import { tempDataDir } from './helpers/gateway.js';

test('start --json prints exactly one JSON line with the bound addresses; SIGTERM exits 0', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const gw = await spawnGateway(dataDir);
  const { ws, mqtt: mqttUrl, http } = gw.addresses;
  assert.deepEqual(Object.keys(gw.addresses), ['ws', 'mqtt', 'http']);
  assert.match(ws, /^wss:\/\/127\.0\.0\.1:\d+\/v1\/device$/);
  assert.match(mqttUrl, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
  assert.match(http, /^http:\/\/127\.0\.0\.1:\d+$/);
  const health = (await (await fetch(`${http}/healthz`)).json()) as { status: string };
  assert.equal(health.status, 'ok');
  assert.match(gw.stderr(), /self-signed development certificate/);

  const exited = collect(gw.child);
  gw.child.kill('SIGTERM');
  const result = await exited;
  assert.equal(result.code, 0);
  assert.equal(result.stdout, '', 'nothing after the address line');
});

test('devices add --json prints {device, model, token} and the token authenticates', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const added = await runCli(['devices', 'add', 'env-7', '--model', 'env-sensor', '--json', '--data-dir', dataDir]);
  assert.equal(added.code, 0, added.stderr);
  const lines = added.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const out = JSON.parse(lines[0]!) as { device: string; model: string; token: string };
  assert.deepEqual(Object.keys(out), ['device', 'model', 'token']);
  assert.equal(out.device, 'env-7');
  assert.equal(out.model, 'env-sensor');
  assert.ok(out.token.length >= 32);

  const gw = await spawnGateway(dataDir);
  t.after(() => gw.child.kill('SIGTERM'));
  const ca = readFileSync(join(dataDir, 'dev-cert.pem'));
  const socket = new WebSocket(gw.addresses.ws, { ca, headers: { authorization: `Bearer ${out.token}` } });
  const welcome = await new Promise<{ type: string; device: string }>((resolve) => socket.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()))));
  assert.deepEqual([welcome.type, welcome.device], ['welcome', 'env-7']);
  socket.close();

  // The token is stored only as a hash: the list never shows it.
  const list = await runCli(['devices', 'list', '--json', '--data-dir', dataDir]);
  assert.ok(!list.stdout.includes(out.token));
  assert.ok(!readFileSync(join(dataDir, 'gateway.db')).includes(out.token));
  assert.ok(!gw.stderr().includes(out.token), 'tokens never reach the log');
});

test('CLI errors carry their code and exit 1: unknown model, bad id, duplicate, unknown device', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const cases: Array<[string[], string]> = [
    [['devices', 'add', 'd1', '--model', 'toaster'], 'unknown_model'],
    [['devices', 'add', 'a/b', '--model', 'meter'], 'invalid_device_id'],
    [['devices', 'revoke', 'ghost'], 'unknown_device'],
    [['devices', 'rotate', 'ghost'], 'unknown_device'],
    [['users', 'remove', 'ghost'], 'unknown_user'],
  ];
  await runCli(['devices', 'add', 'dup', '--model', 'meter', '--data-dir', dataDir]);
  cases.push([['devices', 'add', 'dup', '--model', 'meter'], 'device_exists']);
  for (const [args, code] of cases) {
    const result = await runCli([...args, '--json', '--data-dir', dataDir]);
    assert.equal(result.code, 1, args.join(' '));
    assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, code);
  }
});

test('users add reads the password from stdin and the user can connect with it', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const added = await runCli(['users', 'add', 'svc', '--password-stdin', '--allow-sub', 'devices/#', '--allow-pub', 'devices/+/commands', '--data-dir', dataDir], {
    stdin: 's3cret\n',
  });
  assert.equal(added.code, 0, added.stderr);
  const listed = JSON.parse((await runCli(['users', 'list', '--json', '--data-dir', dataDir])).stdout) as Array<Record<string, unknown>>;
  assert.deepEqual(listed.map((u) => [u.name, u.allowPub, u.allowSub]), [['svc', ['devices/+/commands'], ['devices/#']]]);
  assert.ok(!JSON.stringify(listed).includes('s3cret'));

  const gw = await spawnGateway(dataDir);
  t.after(() => gw.child.kill('SIGTERM'));
  const client = await mqtt.connectAsync(gw.addresses.mqtt, { username: 'svc', password: 's3cret', reconnectPeriod: 0 });
  await client.endAsync();
});

test('start without a certificate and without --dev refuses to start with a clear message (exit 2)', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const result = await runCli(['start', '--data-dir', dataDir, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /tls\.cert and tls\.key.*--dev/);
});

test('config: file < env < flags, and an unknown key is refused by name', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const file = join(dataDir, 'gateway.yaml');
  writeFileSync(file, 'devices:\n  heartbeatMs: 11111\n  sessionPolicy: multi\nlimits:\n  maxFrameBytes: 2048\n');
  await runCli(['devices', 'add', 'c1', '--model', 'meter', '--data-dir', dataDir]);
  const token = (JSON.parse((await runCli(['devices', 'rotate', 'c1', '--json', '--data-dir', dataDir])).stdout) as { token: string }).token;

  // File says 2048, env says 4096 (env wins); env says ws port 1, the flag says 0 (flag wins).
  const gw = await spawnGateway(dataDir, ['--config', file], { WMG_LIMITS_MAX_FRAME_BYTES: '4096', WMG_WS_PORT: '1' });
  t.after(() => gw.child.kill('SIGTERM'));
  const ca = readFileSync(join(dataDir, 'dev-cert.pem'));
  const socket = new WebSocket(gw.addresses.ws, { ca, headers: { authorization: `Bearer ${token}` } });
  const welcome = await new Promise<Record<string, unknown>>((resolve) => socket.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()))));
  socket.close();
  assert.deepEqual([welcome.heartbeatMs, welcome.maxFrameBytes], [11111, 4096]);
  assert.notEqual(new URL(gw.addresses.ws).port, '1');

  const bad = join(dataDir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ devices: { heartbeatMs: 1000, sesionPolicy: 'multi' }, limits: { maxFrameBytes: 'big' } }));
  const refused = await runCli(['start', '--dev', '--config', bad, '--data-dir', dataDir]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /devices\.sesionPolicy: must NOT have additional properties/);
  assert.match(refused.stderr, /limits\.maxFrameBytes: must be integer/);

  const badEnv = await runCli(['devices', 'list', '--data-dir', dataDir], { env: { WMG_DEVICES_HEARTBEAT_MS: 'soon' } });
  assert.equal(badEnv.code, 2);
  assert.match(badEnv.stderr, /WMG_DEVICES_HEARTBEAT_MS=soon is not a number/);
});
