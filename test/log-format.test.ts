// log.format: JSON for collectors, one readable line per event on a terminal, secrets redacted in both.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../gateway/log.js';

const capture = (format: 'auto' | 'json' | 'pretty', terminal: boolean) => {
  const lines: string[] = [];
  const log = createLogger('info', (line) => lines.push(line), format, terminal);
  log.warn('mqtt connect refused', { code: 'unauthorized', user: 'alice', password: 'hunter2', note: 'two words' });
  return lines;
};

test('pretty: one line per event with time, level, message and fields; the password is redacted', () => {
  const [line, ...more] = capture('pretty', false);
  assert.deepEqual(more, []);
  assert.match(line!, /^\d\d:\d\d:\d\d\.\d{3} WARN  mqtt connect refused code=unauthorized user=alice password=\[redacted\] note="two words"\n$/);
  assert.doesNotMatch(line!, /hunter2/);
});

test('auto is pretty on a terminal and JSON elsewhere; json stays JSON', () => {
  assert.doesNotMatch(capture('auto', true)[0]!, /^\{/);
  for (const line of [capture('auto', false)[0]!, capture('json', true)[0]!]) {
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry.level, 'warn');
    assert.equal(entry.code, 'unauthorized');
    assert.equal(entry.password, '[redacted]');
  }
});
