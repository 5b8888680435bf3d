// Embedding the gateway: what `import ... from 'ws-mqtt-gateway'` offers is
// enough to start one from config and read its error codes.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { ConfigError, ERRORS, createLogger, loadConfig, startGateway } from 'ws-mqtt-gateway';
import { tempDataDir } from './helpers/gateway.js';

test('the package entry starts a gateway from loadConfig and exposes ERRORS and ConfigError', async (t) => {
  const dataDir = tempDataDir();
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  assert.throws(() => loadConfig({ ws: { port: 'x' } }, 'embedding'), ConfigError);
  const config = loadConfig({ dataDir, dev: true, ws: { port: 0 }, mqtt: { port: 0 }, http: { port: 0 } }, 'embedding');
  const gateway = await startGateway(config, createLogger('error'));
  t.after(() => gateway.close());
  const health = (await (await fetch(`${gateway.addresses.http}/healthz`)).json()) as { status: string };
  assert.equal(health.status, 'ok');
  assert.equal(ERRORS.unauthorized.close, 4401);
});
