// The device SDK's outbox on its own, no sockets: what it lets
// the device write (send window, catch-up pace, oldest first), what comes back
// after a lost connection, and what goes when the buffer is full. Times are on
// a made-up performance.now() clock passed in by each test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MAX_BUFFERED as MAX_BUFFERED, DEFAULT_SEND_PER_SEC, Outbox, SEND_WINDOW, type NextWrite } from '../sdk/outbox.js';

/** An outbox at the default bounds, holding messages '1'..'count' (frame = `f<id>`, value = `v<id>`). */
function filled(count: number, sendPerSec = DEFAULT_SEND_PER_SEC): Outbox<string> {
  const outbox = new Outbox<string>({ max: MAX_BUFFERED, sendPerSec }, 0);
  for (let i = 1; i <= count; i++) outbox.add(String(i), `f${i}`, `v${i}`);
  return outbox;
}

/** Takes writes at `now` until the outbox says wait or idle; returns the frames and that answer. */
function takeAll(outbox: Outbox<string>, now: number): { frames: string[]; resent: boolean[]; then: NextWrite<string> } {
  const frames: string[] = [];
  const resent: boolean[] = [];
  for (;;) {
    const next = outbox.takeNext(now);
    if (next.kind !== 'write') return { frames, resent, then: next };
    frames.push(next.frame);
    resent.push(next.resend);
  }
}

test('no more than SEND_WINDOW readings are in flight, whatever the pace allows; an ack frees one slot', () => {
  const outbox = filled(SEND_WINDOW + 5);
  assert.equal(takeAll(outbox, 0).frames.length, SEND_WINDOW);
  // 10 s later the pace would allow a full burst again, but nothing has been acked.
  assert.deepEqual(outbox.takeNext(10_000), { kind: 'idle' });
  assert.equal(outbox.inFlight, SEND_WINDOW);
  assert.notEqual(outbox.ack('7', 10_000), undefined);
  const after = takeAll(outbox, 10_000);
  assert.deepEqual(after.frames, [`f${SEND_WINDOW + 1}`]);
  assert.deepEqual(after.then, { kind: 'idle' });
});

test('after a lost connection the unacked readings are written again, same frames, oldest first, before new ones', () => {
  const outbox = filled(3);
  assert.deepEqual(takeAll(outbox, 0).frames, ['f1', 'f2', 'f3']);
  assert.deepEqual(outbox.ack('2', 40), { value: 'v2', latencyMs: 40 });
  outbox.add('4', 'f4', 'v4');
  outbox.requeueAll();
  assert.equal(outbox.inFlight, 0);
  const again = takeAll(outbox, 100);
  assert.deepEqual(again.frames, ['f1', 'f3', 'f4']);
  assert.deepEqual(again.resent, [true, true, false]);
  // Ack latency counts from the latest write, not the first.
  assert.equal(outbox.ack('1', 130)?.latencyMs, 30);
  assert.equal(outbox.ack('1', 140), undefined); // a duplicate ack
  assert.equal(outbox.size, 2);
});

test('at max messages a new one pushes out the oldest, even one in flight, and hands back its value', () => {
  const outbox = filled(1);
  assert.deepEqual(takeAll(outbox, 0).frames, ['f1']);
  for (let i = 2; i <= MAX_BUFFERED; i++) assert.equal(outbox.add(String(i), `f${i}`, `v${i}`), undefined);
  assert.equal(outbox.add(String(MAX_BUFFERED + 1), `f${MAX_BUFFERED + 1}`, 'new'), 'v1');
  assert.equal(outbox.size, MAX_BUFFERED);
  assert.equal(outbox.inFlight, 0);
  assert.equal(outbox.ack('1', 10), undefined);
  assert.deepEqual(outbox.takeNext(10_000), { kind: 'write', id: '2', frame: 'f2', value: 'v2', resend: false });
});

test('after its burst, a backlog drains at sendPerSec', () => {
  const outbox = filled(SEND_WINDOW + 20);
  assert.equal(takeAll(outbox, 0).frames.length, SEND_WINDOW); // the burst
  for (let i = 1; i <= SEND_WINDOW; i++) outbox.ack(String(i), 0);
  // Window free, tokens spent: the outbox says when the next token is due.
  const tokenMs = 1000 / DEFAULT_SEND_PER_SEC;
  assert.deepEqual(takeAll(outbox, 0).then, { kind: 'wait', ms: Math.ceil(tokenMs) });
  assert.deepEqual(takeAll(outbox, 0.95 * tokenMs).frames, []);
  assert.deepEqual(takeAll(outbox, 1.5 * tokenMs).frames, [`f${SEND_WINDOW + 1}`]); // half a token left
  const t = 6.5 * tokenMs;
  assert.equal(takeAll(outbox, t).frames.length, 5);

  // 400 frames/s: a token every 2.5 ms.
  const fast = filled(SEND_WINDOW + 20, 400);
  takeAll(fast, 0);
  for (let i = 1; i <= SEND_WINDOW; i++) fast.ack(String(i), 0);
  assert.deepEqual(takeAll(fast, 0).then, { kind: 'wait', ms: 3 });
  assert.equal(takeAll(fast, 10).frames.length, 4);
});
