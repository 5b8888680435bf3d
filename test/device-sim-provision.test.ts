import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DeviceRegistry } from '../gateway/registry/devices.js';
import { openStore } from '../gateway/store/open-store.js';
import { listModelNames, SHIPPED_MODELS_DIR } from '../gateway/models/load-models.js';
import { deviceIds, provisionDevices } from '../device-sim/provision.js';
import { readTokensFile } from '../device-sim/tokens-file.js';
import { SqliteDeviceRows } from '../gateway/registry/sqlite-device-rows.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'device-sim-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('provision adds devices the gateway registry accepts and writes their tokens 0600', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'tokens.json');
  const report = await provisionDevices({ count: 25, prefix: 'sim-', model: 'tracker', dataDir: join(dir, 'data'), out });
  assert.ok(report.ok);
  assert.equal(report.value.created, 25);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const tokens = readTokensFile(out);
  assert.ok(tokens.ok);
  assert.deepEqual(tokens.value.map((d) => d.device), deviceIds('sim-', 25));
  assert.equal(tokens.value[0]!.device, 'sim-0001');
  const store = openStore(join(dir, 'data'));
  t.after(() => store.close());
  const registry = new DeviceRegistry(new SqliteDeviceRows(store), listModelNames(SHIPPED_MODELS_DIR));
  for (const { device, token } of tokens.value) assert.deepEqual(await registry.authenticate(token), { device, model: 'tracker' });
});

test('provisioning again keeps devices whose tokens are in the file and adds the rest', async (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'tokens.json');
  const dataDir = join(dir, 'data');
  const first = await provisionDevices({ count: 3, prefix: 'a-', model: 'meter', dataDir, out });
  assert.ok(first.ok);
  const second = await provisionDevices({ count: 5, prefix: 'a-', model: 'meter', dataDir, out });
  assert.ok(second.ok);
  assert.equal(second.value.created, 2);
  assert.equal(second.value.kept, 3);
  assert.deepEqual(second.value.devices.slice(0, 3), first.value.devices, 'same tokens kept');
  const other = await provisionDevices({ count: 2, prefix: 'b-', model: 'env-sensor', dataDir, out });
  assert.ok(other.ok);
  assert.equal(other.value.devices.length, 7, 'other prefixes accumulate in the same file');
});

test('provision refuses ids already in the registry without their token, and adds nothing', async (t) => {
  const dir = tempDir(t);
  const dataDir = join(dir, 'data');
  assert.ok((await provisionDevices({ count: 2, prefix: 'x-', model: 'meter', dataDir, out: join(dir, 'one.json') })).ok);
  const clash = await provisionDevices({ count: 4, prefix: 'x-', model: 'meter', dataDir, out: join(dir, 'two.json') });
  assert.equal(clash.ok ? 'ok' : clash.error.code, 'device_exists');
  const unknown = await provisionDevices({ count: 1, prefix: 'y-', model: 'toaster', dataDir, out: join(dir, 'three.json') });
  assert.equal(unknown.ok ? 'ok' : unknown.error.code, 'provision_failed');
  const store = openStore(dataDir);
  t.after(() => store.close());
  assert.equal((await new DeviceRegistry(new SqliteDeviceRows(store), listModelNames(SHIPPED_MODELS_DIR)).list()).length, 2);
});
