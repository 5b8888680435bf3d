// The dashboard in a real headless Chromium: what a person watching the fleet sees.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectBackend } from './helpers/backend.js';
import { launchChromium } from './helpers/chromium.js';
import { connectDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

test('the dashboard shows a device online and offline, its dead letters and its commands', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const page = await browser.newPage();
  page.setDefaultTimeout(5000);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const res = await page.goto(`${gw.addresses.http}/`);
  assert.equal(res?.status(), 200);
  await page.getByText('live', { exact: true }).waitFor();

  const token = await provision(gw, 'dev-dash');
  const device = await connectDevice(gw, token);
  const row = page.locator('tr[data-device="dev-dash"]');
  // Within 2 s of connecting: the feed ticks every 500 ms.
  await row.getByText('online', { exact: true }).waitFor({ timeout: 2000 });

  device.send(telemetry('m-1', { temperature: 21, humidity: 400 }));
  assert.equal((await device.nextFrame()).code, 'invalid_telemetry');
  const deadLetter = page.locator('#deadletters tr', { hasText: 'dev-dash' });
  await deadLetter.getByText('/data/humidity').waitFor({ timeout: 2000 });
  assert.match(await deadLetter.innerText(), /invalid_telemetry/);
  await row.getByText('invalid_telemetry').waitFor({ timeout: 2000 });

  const backend = await connectBackend(gw, { pub: ['devices/+/commands'] });
  t.after(() => backend.close());
  await backend.publish('devices/dev-dash/commands', { id: 'c-dash', name: 'ping' });
  assert.equal((await device.nextFrame()).type, 'command');
  device.send({ type: 'command_result', id: 'c-dash', ok: true });
  await page.locator('#commands tr[data-command="c-dash"]', { hasText: 'succeeded' }).first().waitFor({ timeout: 2000 });

  await device.close();
  await row.getByText('offline', { exact: true }).waitFor({ timeout: 2000 });
  // Its own temp dir: the gateway's data dir is removed when the test ends.
  const screenshot = join(mkdtempSync(join(tmpdir(), 'wmg-dashboard-test-')), 'dashboard.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(`dashboard screenshot: ${screenshot}`);
  assert.deepEqual(pageErrors, []);
});

test('the dashboard demands Basic auth when the listener is not loopback', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const gw = await startTestGateway({ http: { host: '0.0.0.0' } });
  t.after(() => gw.close());
  await gw.users.add('watcher', 'watch-pass', [], ['devices/#']);
  const anonymous = await browser.newPage();
  const challenge = anonymous.waitForResponse((r) => new URL(r.url()).pathname === '/', { timeout: 5000 });
  // Without credentials to offer, Chromium gives up on the challenge.
  await assert.rejects(anonymous.goto(`${gw.addresses.http}/`), /ERR_INVALID_AUTH_CREDENTIALS/);
  const refused = await challenge;
  assert.equal(refused.status(), 401);
  assert.match(refused.headers()['www-authenticate'] ?? '', /^Basic /);
  const context = await browser.newContext({ httpCredentials: { username: 'watcher', password: 'watch-pass' } });
  const page = await context.newPage();
  assert.equal((await page.goto(`${gw.addresses.http}/`))?.status(), 200);
  // The feed is guarded too, and the browser sends the same credentials for it.
  await page.getByText('live', { exact: true }).waitFor({ timeout: 5000 });
});
