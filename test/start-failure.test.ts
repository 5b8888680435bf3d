// A start that fails tells the user what to fix (the address and the config key, or
// the file) and exits 2 at once, and leaves nothing open behind it: the ports it had
// already bound are free again and the same data dir starts fine right after.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../gateway/errors.js';
import { collect, GATEWAY_BIN, type CliResult } from './helpers/cli.js';
import { withDeadline } from './helpers/deadline.js';
import { connectDevice } from './helpers/device.js';
import { provision, startTestGateway, tempDataDir } from './helpers/gateway.js';

// The gateway binds 127.0.0.1 by default (schemas/config.schema.json), so that is where a port is taken.
const HOST = '127.0.0.1';

function listenOn(port: number): Promise<Server> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve(server));
  });
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port nothing listens on right now (the kernel's pick, released again). */
async function freePort(): Promise<number> {
  const server = await listenOn(0);
  const port = portOf(server);
  await closeServer(server);
  return port;
}

/** The process's open handles and requests once handles closed earlier have finished closing. */
async function settledResources(): Promise<string[]> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return process.getActiveResourcesInfo().sort();
}

/** Runs the gateway CLI; a run that outlives `ms` fails the test instead of hanging it, and is killed. */
async function runWithin(ms: number, args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [GATEWAY_BIN, ...args]);
  child.stdin.end();
  try {
    return await withDeadline(collect(child), ms, `exit of \`ws-mqtt-gateway ${args.join(' ')}\``);
  } finally {
    child.kill('SIGKILL');
  }
}

test('a device port in use fails the start with a ConfigError naming the port and ws.port, and frees what the start had opened', async (t) => {
  const blocker = await listenOn(0);
  t.after(() => closeServer(blocker));
  const taken = portOf(blocker);
  // Explicit ports, so the test can see that the failed start let go of them.
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const before = await settledResources();
  await assert.rejects(startTestGateway({ ws: { port: taken }, mqtt: { port: mqttPort }, http: { port: httpPort } }, dataDir), (err: Error) => {
    assert.ok(err instanceof ConfigError, err.stack);
    assert.ok(err.message.includes(`${HOST}:${taken}`), err.message);
    assert.ok(err.message.includes('ws.port'), err.message);
    return true;
  });
  // No listener, worker, store handle or timer of the failed start is left. Whatever was
  // left would keep this process alive after the failure is reported: end it so a
  // regression fails the run instead of hanging it.
  const after = await settledResources();
  if (after.join() !== before.join()) setTimeout(() => process.exit(1), 2000);
  assert.deepEqual(after, before);
  for (const port of [mqttPort, httpPort]) await closeServer(await listenOn(port));

  const gw = await startTestGateway({ mqtt: { port: mqttPort }, http: { port: httpPort } }, dataDir);
  t.after(() => gw.close());
  const device = await connectDevice(gw, await provision(gw, 'env-1'));
  await device.close();
});

test('start exits 2 within seconds when the device port is taken, and says which port and which flag', async (t) => {
  const blocker = await listenOn(0);
  t.after(() => closeServer(blocker));
  const taken = portOf(blocker);
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));

  const result = await runWithin(10_000, ['start', '--dev', '--data-dir', dataDir, '--ws-port', String(taken), '--mqtt-port', '0', '--http-port', '0']);
  assert.equal(result.code, 2, result.stderr);
  assert.ok(result.stderr.includes(`${HOST}:${taken}`), result.stderr);
  assert.ok(result.stderr.includes('--ws-port'), result.stderr);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'a config problem is printed without a stack');
  assert.equal(result.stdout, '');
});

test('start exits 2 naming the file when the data dir cannot be opened (it is a regular file)', async (t) => {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notADir = join(dir, 'data');
  writeFileSync(notADir, 'not a directory\n');

  const result = await runWithin(10_000, ['start', '--dev', '--data-dir', notADir, '--ws-port', '0', '--mqtt-port', '0', '--http-port', '0']);
  assert.equal(result.code, 2, result.stderr);
  assert.ok(result.stderr.includes(notADir), result.stderr);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'a config problem is printed without a stack');
});

test('registry commands exit 2 naming the store file when the data dir cannot be opened', async (t) => {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notADir = join(dir, 'data');
  writeFileSync(notADir, 'not a directory\n');

  const result = await runWithin(10_000, ['devices', 'list', '--data-dir', notADir]);
  assert.equal(result.code, 2, result.stderr);
  assert.ok(result.stderr.includes(join(notADir, 'gateway.db')), result.stderr);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
});
