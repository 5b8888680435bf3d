// The device SDK in real headless Chromium: examples/browser-device.html loads
// /sdk/device.js from the gateway, authenticates with the hello frame, and its
// telemetry, a command and a desired change go through the real gateway and broker.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { connectBackend, type Received, type TestBackend } from './helpers/backend.js';
import { launchChromium } from './helpers/chromium.js';
import { provision, startTestGateway } from './helpers/gateway.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/browser-device.html', import.meta.url));

async function nextWhere(backend: TestBackend, match: (m: Received) => boolean): Promise<Received> {
  for (;;) {
    const message = await backend.nextMessage(10_000);
    if (match(message)) return message;
  }
}

test('a browser page on the SDK: hello auth, telemetry on MQTT, a command round trip, desired state in and reported back', async (t) => {
  // Page functions are strings: they run in the page, whose globals (window, document) tsc here does not know.
  const browser = await launchChromium(t);
  if (!browser) return;
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const token = await provision(gw, 'web-1');
  const backend = await connectBackend(gw, { pub: ['devices/+/commands', 'devices/+/desired/set'], sub: ['devices/#'] });
  t.after(() => backend.close());
  await backend.subscribe('devices/web-1/#');

  // The test gateway's dev certificate is self-signed, as a developer's is.
  const page = await (await browser.newContext({ ignoreHTTPSErrors: true })).newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const query = new URLSearchParams({ http: gw.addresses.http, ws: gw.addresses.ws });
  await page.goto(`file://${EXAMPLE}?${query}`);
  await page.fill('#token', token);
  await page.click('#connect');
  await page.waitForFunction('window.device?.online === true', null, { timeout: 10_000 });
  assert.match(await page.textContent('#log') ?? '', /welcome: web-1 \(env-sensor\)/);

  await page.click('#send');
  const reading = await nextWhere(backend, (m) => m.topic === 'devices/web-1/telemetry');
  assert.deepEqual(reading.payload.data, { temperature: 21.5, humidity: 40 });
  await page.waitForFunction(`document.querySelector('#log').textContent.includes('ack telemetry')`, null, { timeout: 5000 });

  await backend.publish('devices/web-1/commands', { id: 'c-1', name: 'ping' });
  const result = await nextWhere(backend, (m) => m.topic === 'devices/web-1/commands/c-1/status' && m.payload.status !== 'accepted' && m.payload.status !== 'delivered');
  assert.equal(result.payload.status, 'succeeded');
  assert.equal(typeof (result.payload.result as { uptimeSec: unknown }).uptimeSec, 'number');

  await backend.publish('devices/web-1/desired/set', { state: { reportIntervalSec: 12 } });
  await page.waitForFunction(`document.querySelector('#desired').textContent.includes('"version": 1')`, null, { timeout: 5000 });
  assert.deepEqual(JSON.parse((await page.textContent('#desired')) ?? ''), { version: 1, state: { reportIntervalSec: 12 }, delta: { reportIntervalSec: 12 } });
  await page.click('#report');
  const twin = await nextWhere(backend, (m) => m.topic === 'devices/web-1/twin' && Object.keys(m.payload.delta as object).length === 0 && m.payload.version === 1);
  assert.deepEqual(twin.payload.reported, { reportIntervalSec: 12 });
  assert.deepEqual(pageErrors, []);
});
