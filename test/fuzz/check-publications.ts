import type { ValidateFunction } from 'ajv';
import type { ErrorCode } from '../../gateway/errors.js';
import type { Received } from '../helpers/backend.js';
import { DEAD_LETTER_CODES, deadLetterOf, epochMsOf } from './expect-reply.js';
import { describeFrame, type Outcome } from './check-replies.js';

/** What one device's batch must put on MQTT, from the replies it actually got. */
export interface Due {
  telemetry: Outcome[];
  state: Outcome[];
  deadLetters: Outcome[];
}

/** Every acked frame is published; every frame refused with a dead-letter code is dead-lettered. */
export function duePublications(outcomes: readonly Outcome[]): Due {
  const due: Due = { telemetry: [], state: [], deadLetters: [] };
  for (const outcome of outcomes) {
    if (outcome.reply.type === 'ack') {
      // What the gateway acked is what it published, whatever the oracle thought of it.
      const type = frameType(outcome);
      (type === 'state' ? due.state : due.telemetry).push(outcome);
    } else if (DEAD_LETTER_CODES.has(outcome.reply.code as string) && frameType(outcome) !== 'hello') {
      due.deadLetters.push(outcome);
    }
  }
  // State is retained: the order it reaches the broker is what a late subscriber sees last.
  due.state.sort((a, b) => a.sent.index - b.sent.index);
  return due;
}

export interface Validators {
  telemetry: ValidateFunction;
  state: ValidateFunction;
}

export interface DeviceTopics {
  device: string;
  model: string;
  telemetry: Received[];
  state: Received[];
  deadLetters: Received[];
}

// An ack for a frame that does not parse is already reported by matchReplies; here it is just empty.
function parsed(outcome: Outcome): Record<string, unknown> {
  if (outcome.sent.wire.binary) return {};
  try {
    const value: unknown = JSON.parse(outcome.sent.wire.bytes.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function frameType(outcome: Outcome): unknown {
  return parsed(outcome).type;
}

function hasKeys(payload: Record<string, unknown>, required: string[], optional: string[] = []): boolean {
  const keys = Object.keys(payload);
  return required.every((k) => keys.includes(k)) && keys.every((k) => required.includes(k) || optional.includes(k));
}

// docs/protocol.md: ts is published as epoch ms; absent, it is the time the gateway received the frame.
function tsMatches(sentTs: unknown, payload: Record<string, unknown>): boolean {
  const { ts, receivedAt } = payload;
  if (typeof ts !== 'number' || !Number.isFinite(ts) || !Number.isInteger(receivedAt)) return false;
  if (sentTs === undefined) return ts === receivedAt;
  if (typeof sentTs !== 'string') return ts === sentTs;
  const want = epochMsOf(sentTs);
  // A leap second has no epoch ms of its own: the second before it or after it are both fair.
  return typeof sentTs === 'string' && /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:60/.test(sentTs) ? ts >= want - 1000 && ts <= want : ts === want;
}

/** A backend gets only valid payloads, exactly the acked frames, and one dead letter per refused frame. */
export function checkPublications(
  due: Due,
  got: DeviceTopics,
  validators: Validators,
  violations: string[],
): void {
  const { device, model } = got;
  const pending = new Map<string, Outcome[]>();
  for (const outcome of due.telemetry) {
    const frame = parsed(outcome);
    const key = `${String(frame.id)}\u0000${JSON.stringify(frame.data)}`;
    pending.set(key, [...(pending.get(key) ?? []), outcome]);
  }
  for (const { payload } of got.telemetry) {
    const shown = JSON.stringify(payload).slice(0, 400);
    if (!hasKeys(payload, ['device', 'model', 'id', 'ts', 'receivedAt', 'data']) || payload.device !== device || payload.model !== model || typeof payload.id !== 'string') {
      violations.push(`telemetry payload breaks the documented shape: ${shown}`);
    }
    if (!validators.telemetry(payload.data)) violations.push(`invalid telemetry reached MQTT: ${shown} ${JSON.stringify(validators.telemetry.errors)}`);
    const key = `${String(payload.id)}\u0000${JSON.stringify(payload.data)}`;
    const outcome = pending.get(key)?.shift();
    if (!outcome) {
      violations.push(`telemetry on MQTT that no acked frame sent: ${shown}`);
      continue;
    }
    const sentTs = parsed(outcome).ts;
    if (!tsMatches(sentTs, payload)) {
      violations.push(`telemetry published with ts ${String(payload.ts)} (receivedAt ${String(payload.receivedAt)}) for ts ${JSON.stringify(sentTs)} of ${describeFrame(outcome.sent)}`);
    }
  }
  for (const outcome of [...pending.values()].flat()) violations.push(`acked but never published: ${describeFrame(outcome.sent)}`);

  // All of them, in the order the acked frames were sent.
  let next = 0;
  for (const { payload } of got.state) {
    const shown = JSON.stringify(payload).slice(0, 400);
    if (!hasKeys(payload, ['device', 'state', 'updatedAt']) || payload.device !== device || !Number.isInteger(payload.updatedAt)) {
      violations.push(`state payload breaks the documented shape: ${shown}`);
    }
    if (!validators.state(payload.state)) violations.push(`invalid state reached MQTT: ${shown} ${JSON.stringify(validators.state.errors)}`);
    const same = (o: Outcome): boolean => JSON.stringify(parsed(o).state) === JSON.stringify(payload.state);
    if (due.state[next] && same(due.state[next])) next++;
    else {
      const wanted = due.state[next];
      violations.push(`state on MQTT ${shown} is not the next acked state frame${wanted ? ` (${describeFrame(wanted.sent)})` : ''}`);
    }
  }
  for (const outcome of due.state.slice(next)) violations.push(`acked state never published: ${describeFrame(outcome.sent)}`);

  const letters = new Map<string, Outcome[]>();
  const letterKey = (l: { code: unknown; frame: unknown; frameEncoding?: unknown; frameBytes?: unknown }): string =>
    JSON.stringify([l.code, l.frame, l.frameEncoding ?? null, l.frameBytes ?? null]);
  for (const outcome of due.deadLetters) {
    const key = letterKey(deadLetterOf(outcome.sent.wire, outcome.reply.code as ErrorCode));
    letters.set(key, [...(letters.get(key) ?? []), outcome]);
  }
  for (const { payload } of got.deadLetters) {
    if (payload.device !== device || !Array.isArray(payload.errors) || !Number.isInteger(payload.receivedAt)) {
      violations.push(`dead letter breaks the documented shape: ${JSON.stringify(payload).slice(0, 400)}`);
    }
    if (!letters.get(letterKey(payload as Parameters<typeof letterKey>[0]))?.shift()) {
      violations.push(`dead letter for no refused frame (or with the wrong frame text): ${JSON.stringify(payload).slice(0, 400)}`);
    }
  }
  for (const outcome of [...letters.values()].flat()) violations.push(`refused with ${String(outcome.reply.code)} but not dead-lettered: ${describeFrame(outcome.sent)}`);
}
