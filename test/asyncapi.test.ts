// docs/asyncapi.yaml is what firmware and backend teams generate clients from: it must
// be valid AsyncAPI 3, describe every topic and frame, and match the generator.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { shippedAsyncApiYaml } from '../gateway/asyncapi/render-yaml.js';
import { NOT_TOPICS } from '../gateway/asyncapi/topic-catalog.js';
import { topicsFor } from '../gateway/topics.js';
import { startTestGateway } from './helpers/gateway.js';

const committed = readFileSync(new URL('../../docs/asyncapi.yaml', import.meta.url), 'utf8');
const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

test('docs/asyncapi.yaml is what npm run asyncapi generates (a stale file fails)', () => {
  assert.equal(committed, shippedAsyncApiYaml(), 'docs/asyncapi.yaml is stale: run npm run asyncapi and commit it');
});

test('@asyncapi/parser validates docs/asyncapi.yaml with no errors', async () => {
  const { document, diagnostics } = await new Parser().parse(committed);
  const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`);
  assert.deepEqual(errors, []);
  assert.ok(document);
  assert.equal(document.version(), '3.0.0');
});

test('every topic of gateway/topics.ts and every frame type of docs/protocol.md is in the document', async () => {
  const { document } = await new Parser().parse(committed);
  const addresses = document!.channels().all().map((c) => c.address());
  const topics = topicsFor('devices');
  for (const [member, build] of Object.entries(topics)) {
    // Parsers of topics backends publish to: checked by address below.
    if (NOT_TOPICS.has(member) || member === 'commandTarget' || member === 'desiredTarget') continue;
    const address = (build as (d: string, c: string) => string)('{deviceId}', '{commandId}');
    assert.ok(addresses.includes(address), `${member}: ${address} missing`);
  }
  assert.ok(addresses.includes('devices/{deviceId}/commands'), 'the commands topic backends publish to');
  assert.ok(addresses.includes('devices/{deviceId}/desired/set'), 'the desired state topic backends publish to');
  const frameNames = new Set(document!.channels().get('device')!.messages().all().map((m) => m.name()));
  const documented = new Set([...protocol.matchAll(/"type":"([a-z_]+)"/g)].map((m) => m[1]!));
  assert.ok(documented.size >= 8, `protocol.md frame types: ${[...documented].join(', ')}`);
  for (const type of documented) assert.ok(frameNames.has(type), `frame ${type} missing`);
  // One message per model and kind.
  for (const model of ['env-sensor', 'meter', 'tracker']) {
    for (const key of [`telemetry.${model}`, `state.${model}`, `command.${model}`]) {
      assert.ok(document!.channels().get('device')!.messages().get(key), key);
    }
  }
});

test('GET /asyncapi.json serves the running gateway\'s document, under its topic root', async (t) => {
  const gw = await startTestGateway({ mqtt: { topicRoot: 'plant/a' } });
  t.after(() => gw.close());
  const res = await fetch(`${gw.addresses.http}/asyncapi.json`);
  assert.equal(res.status, 200);
  const doc = (await res.json()) as { asyncapi: string; channels: Record<string, { address: string }> };
  assert.equal(doc.asyncapi, '3.0.0');
  assert.equal(doc.channels.telemetry!.address, 'plant/a/{deviceId}/telemetry');
  assert.equal(doc.channels.commandTarget!.address, 'plant/a/{deviceId}/commands');
});
