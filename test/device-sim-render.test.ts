import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { connectAdvice, formatSummary, LiveStats } from '../device-sim/render-stats.js';
import { FleetStats, summarize } from '../device-sim/stats.js';

function capture(isTTY: boolean): { out: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { out: Object.assign(stream, { isTTY }) as unknown as NodeJS.WriteStream, text: () => text };
}

async function drawTwice(isTTY: boolean): Promise<string> {
  const stats = new FleetStats();
  stats.target = 5;
  stats.connected = 4;
  stats.sent = 100;
  stats.recordAck(1.5);
  stats.countError('invalid_telemetry');
  const { out, text } = capture(isTTY);
  const live = new LiveStats(stats, { out, unacked: () => 3, everyMs: 20, plainEveryMs: 20 });
  live.start();
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (text().split('connected').length > 2) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  live.stop();
  return text();
}

test('on a terminal the live stats are one block redrawn in place', async () => {
  const text = await drawTwice(true);
  assert.match(text, /\x1b\[7F\x1b\[J/, 'the second draw moves up over the first block and clears it');
  for (const field of ['connected   4/5', 'sent/s', 'acked/s', 'p50', 'p99', 'reconnects', 'commands', 'invalid_telemetry=1']) {
    assert.ok(text.includes(field), field);
  }
});

test('off a terminal the live stats are plain lines without escape codes', async () => {
  const text = await drawTwice(false);
  assert.ok(!text.includes('\x1b'));
  const lines = text.trim().split('\n');
  assert.ok(lines.length >= 2);
  assert.match(lines[0]!, /connected 4\/5 .*errors invalid_telemetry=1/);
});

test('the text summary names the fix when nothing could connect', () => {
  const stats = new FleetStats();
  stats.target = 2;
  stats.countConnectFailure('DEPTH_ZERO_SELF_SIGNED_CERT');
  assert.match(formatSummary(summarize(stats, 0, 1)), /--insecure/);
  assert.match(connectAdvice({ ECONNREFUSED: 3 }), /npm start/);
});
