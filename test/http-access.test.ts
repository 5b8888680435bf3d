// Who may look at the fleet over HTTP, and what a load balancer's probes see.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectRawDevice } from './helpers/raw-device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

const basic = (name: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` });

test('bound beyond loopback, /metrics and the dashboard need Basic auth of a user who may subscribe to devices/#; probes stay open', async (t) => {
  const gw = await startTestGateway({ http: { host: '0.0.0.0' } });
  t.after(() => gw.close());
  await gw.users.add('ops', 'ops-pass', [], ['devices/#']);
  await gw.users.add('narrow', 'narrow-pass', [], ['devices/+/telemetry']);
  const url = gw.addresses.http;

  for (const path of ['/metrics', '/', '/events', '/dashboard.js']) {
    const res = await fetch(`${url}${path}`);
    assert.equal(res.status, 401, path);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    await res.body?.cancel();
  }
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  assert.equal((await fetch(`${url}/metrics`, { headers: basic('ops', 'wrong') })).status, 401);
  assert.equal((await fetch(`${url}/metrics`, { headers: basic('narrow', 'narrow-pass') })).status, 403);
  const ok = await fetch(`${url}/metrics`, { headers: basic('ops', 'ops-pass') });
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /wmg_devices_online 0/);
});

test('http.auth always guards a loopback listener too; auto leaves it open', async (t) => {
  const guarded = await startTestGateway({ http: { auth: 'always' } });
  t.after(() => guarded.close());
  assert.equal((await fetch(`${guarded.addresses.http}/metrics`)).status, 401);
  const open = await startTestGateway();
  t.after(() => open.close());
  assert.equal((await fetch(`${open.addresses.http}/metrics`)).status, 200);
  assert.equal((await fetch(`${open.addresses.http}/nope`)).status, 404);
  assert.equal((await fetch(`${open.addresses.http}/metrics`, { method: 'POST' })).status, 405);
});

test('/readyz is 200 once started and 503 from the moment the drain begins', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const ready = await fetch(`${gw.addresses.http}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready' });
  // A device that never answers the close frame holds the drain open for its grace period.
  const stubborn = await connectRawDevice(gw, await provision(gw, 'dev-stubborn'));
  const closing = gw.close();
  await stubborn.closeFrame;
  const draining = await fetch(`${gw.addresses.http}/readyz`);
  assert.equal(draining.status, 503);
  assert.deepEqual(await draining.json(), { status: 'draining' });
  assert.equal((await fetch(`${gw.addresses.http}/healthz`)).status, 200, 'still alive while draining');
  await closing;
});
