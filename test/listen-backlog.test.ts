// A fleet that reconnects at once (after an outage, a deploy) arrives faster than one
// event loop accepts. Connections beyond the listen queue are dropped by the kernel and
// retried by the device a second or more later; Node's default queue of 511 did that
// to thousands of connections in the bench's 5,000-device storm.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startTestGateway } from './helpers/gateway.js';

const hasSs = spawnSync('ss', ['-V']).status === 0;
// Locally a machine without iproute2 skips; under CI it must run.
const skip = !hasSs && process.env.CI !== 'true' ? 'ss (iproute2) is not installed' : false;

/** The queue length the kernel holds for a listening socket (ss shows it as Send-Q). */
function listenQueue(url: string): number {
  const { port } = new URL(url);
  const out = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const [state, , sendQ] = out.stdout.trim().split(/\s+/);
  assert.equal(state, 'LISTEN', out.stdout);
  return Number(sendQ);
}

const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));

test('the device listener queues up to ws.backlog pending connections (default 4096, capped by somaxconn)', { skip }, async (t) => {
  const defaults = await startTestGateway();
  t.after(() => defaults.close());
  assert.equal(listenQueue(defaults.addresses.ws), Math.min(4096, somaxconn));

  const small = await startTestGateway({ ws: { backlog: 64 } });
  t.after(() => small.close());
  assert.equal(listenQueue(small.addresses.ws), 64);
});
