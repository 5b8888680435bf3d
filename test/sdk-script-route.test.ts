// GET /sdk/device.js on the HTTP port: the single-file browser build of the device SDK.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { sdkScript } from '../gateway/http/sdk-script.js';
import { startTestGateway, tempDataDir } from './helpers/gateway.js';

test('the gateway serves the browser SDK as one ESM file any origin may import, with no Node-only imports', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const res = await fetch(`${gw.addresses.http}/sdk/device.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  const script = await res.text();
  assert.match(script, /export\s*\{[^}]*connectDevice/);
  // One file: no imports left, and nothing from Node (node:*, ws, require).
  assert.doesNotMatch(script, /^\s*import\s/m);
  assert.doesNotMatch(script, /\bfrom\s*["']|require\(|["']node:/);
  assert.equal((await fetch(`${gw.addresses.http}/sdk/device.js`, { method: 'POST' })).status, 405);
});

test('a build without the bundle answers 404 saying what to run', async (t) => {
  const dir = tempDataDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = join(dir, 'device.js');
  const handler = sdkScript(missing);
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const res = await fetch(`http://127.0.0.1:${port}/sdk/device.js`);
  assert.equal(res.status, 404);
  assert.match(await res.text(), /npm run build/);
});
