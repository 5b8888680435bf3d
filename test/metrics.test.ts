// /metrics is what an operator's Prometheus scrapes: exact names, counts that follow
// what devices and backends did, and no per-device series.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectBackend } from './helpers/backend.js';
import { connectDevice, openDevice, telemetry } from './helpers/device.js';
import { provision, startTestGateway } from './helpers/gateway.js';

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.doesNotMatch(text, /dev-metrics/, 'no series names a device');
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

test('/metrics counts connections, frames, refusals, dead letters, acks, commands and MQTT clients', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const token = await provision(gw, 'dev-metrics');
  await provision(gw, 'dev-metrics-away');
  const backend = await connectBackend(gw, { pub: ['devices/+/commands'], sub: ['devices/#'] });
  t.after(() => backend.close());
  await backend.subscribe('devices/+/commands/+/status');
  const device = await connectDevice(gw, token);
  t.after(() => device.close());

  device.send(telemetry('m-1', { temperature: 21, humidity: 40 }));
  assert.deepEqual(await device.nextFrame(), { type: 'ack', id: 'm-1' });
  device.send(telemetry('m-2', { temperature: 'hot', humidity: 40 }));
  assert.equal((await device.nextFrame()).code, 'invalid_telemetry');
  device.send('not json');
  assert.equal((await device.nextFrame()).code, 'bad_json');

  await backend.publish('devices/dev-metrics/commands', { id: 'c-1', name: 'ping' });
  const command = await device.nextFrame();
  assert.equal(command.type, 'command');
  device.send({ type: 'command_result', id: 'c-1', ok: true });
  await backend.publish('devices/dev-metrics-away/commands', { id: 'c-2', name: 'ping' });
  const statuses: string[] = [];
  while (statuses.length < 4) statuses.push(String((await backend.nextMessage()).payload.status));

  await openDevice(gw, 'wmg_wrong').then((refused) => refused.closed);
  const m = await scrape(gw.addresses.http);
  const expect: Record<string, number> = {
    wmg_device_connections: 1,
    wmg_devices_online: 1,
    'wmg_device_auth_total{result="ok"}': 1,
    'wmg_device_auth_total{result="unauthorized"}': 1,
    'wmg_device_auth_total{result="auth_timeout"}': 0,
    'wmg_frames_received_total{type="telemetry"}': 2,
    'wmg_frames_received_total{type="command_result"}': 1,
    'wmg_frames_received_total{type="invalid"}': 1,
    'wmg_frames_refused_total{code="invalid_telemetry"}': 1,
    'wmg_frames_refused_total{code="bad_json"}': 1,
    'wmg_messages_published_total{kind="telemetry"}': 1,
    'wmg_messages_published_total{kind="state"}': 0,
    wmg_deadletters_total: 2,
    wmg_ack_latency_seconds_count: 1,
    'wmg_ack_latency_seconds_bucket{le="+Inf"}': 1,
    'wmg_commands_total{status="accepted"}': 2,
    'wmg_commands_total{status="delivered"}': 1,
    'wmg_commands_total{status="succeeded"}': 1,
    'wmg_commands_total{status="rejected"}': 0,
    wmg_command_queue_depth: 1,
    wmg_mqtt_clients: 1,
    wmg_mqtt_auth_failures_total: 0,
    wmg_slow_consumer_disconnects_total: 0,
    wmg_session_queue_dropped_total: 0,
  };
  for (const [series, value] of Object.entries(expect)) assert.equal(m.get(series), value, series);
  assert.ok((m.get('wmg_ack_latency_seconds_sum') ?? -1) > 0);
  assert.ok(m.has('wmg_process_cpu_user_seconds_total'), 'default collectors, prefixed wmg_');
  assert.ok(m.has('wmg_nodejs_eventloop_lag_seconds'));

  await device.close();
  const deadline = Date.now() + 5000;
  let after = await scrape(gw.addresses.http);
  while (after.get('wmg_devices_online') !== 0) {
    assert.ok(Date.now() < deadline, 'the closed device left the gauges within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
    after = await scrape(gw.addresses.http);
  }
  assert.equal(after.get('wmg_device_connections'), 0);
});

test('wmg_mqtt_auth_failures_total counts refused backend logins', async (t) => {
  const gw = await startTestGateway();
  t.after(() => gw.close());
  const { default: mqtt } = await import('mqtt');
  await assert.rejects(mqtt.connectAsync(gw.addresses.mqtt, { username: 'nobody', password: 'x', reconnectPeriod: 0 }));
  await assert.rejects(mqtt.connectAsync(gw.addresses.mqtt, { reconnectPeriod: 0 }));
  assert.equal((await scrape(gw.addresses.http)).get('wmg_mqtt_auth_failures_total'), 2);
});
