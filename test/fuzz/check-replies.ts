import { ERRORS } from '../../gateway/errors.js';
import type { Frame } from '../helpers/device.js';
import type { Expected } from './expect-reply.js';
import type { FramePlan } from './frame-plans.js';
import type { WireFrame } from './render-frame.js';

export interface SentFrame {
  /** Position in the batch, so a report can point at it. */
  index: number;
  model: string;
  /** Absent for the sentinel the runner adds. */
  plan: FramePlan | undefined;
  wire: WireFrame;
  expected: Expected;
}

/** A frame and the one reply the gateway gave it. */
export interface Outcome {
  sent: SentFrame;
  reply: Frame;
}

const SCHEMA_CODES = new Set(['invalid_telemetry', 'invalid_state', 'invalid_command_result']);
const MAX_REPORTED_ERRORS = 20;

/** The frame as a report shows it: escaped, so NULs, surrogates and RTL marks are visible. */
export function describeFrame(sent: SentFrame): string {
  const { bytes, binary } = sent.wire;
  const text = binary ? bytes.toString('base64') : bytes.toString('utf8');
  const shown = text.length > 600 ? `${text.slice(0, 400)}…(${text.length - 500} more)…${text.slice(-100)}` : text;
  return `frame #${sent.index} to the ${sent.model} device (${bytes.length} bytes${binary ? ', binary, base64 here' : ''}): ${JSON.stringify(shown)}`;
}

function describeExpected(expected: Expected): string {
  if (expected.reply === 'ack') return `ack ${JSON.stringify(expected.id)}`;
  return `error ${expected.code}${expected.id === undefined ? ' without id' : ` id ${JSON.stringify(expected.id)}`}`;
}

function replyMatches(expected: Expected, reply: Frame): boolean {
  return expected.reply === 'ack' ? reply.type === 'ack' : reply.type === 'error' && reply.code === expected.code;
}

/**
 * Replies are matched to frames by id where the frame had a string id (acks
 * arrive once the broker has taken the publish, after later refusals); the
 * rest carry no id and, being answered at once, come in the order sent.
 */
export function matchReplies(sent: readonly SentFrame[], replies: readonly Frame[], violations: string[]): Outcome[] {
  const outcomes: Outcome[] = [];
  const withoutId: SentFrame[] = [];
  const byId = new Map<string, SentFrame[]>();
  for (const frame of sent) {
    const id = frame.expected.id;
    if (id === undefined) withoutId.push(frame);
    else byId.set(id, [...(byId.get(id) ?? []), frame]);
  }
  for (const reply of replies) {
    const shape = replyShapeError(reply);
    if (shape) {
      violations.push(`malformed reply ${JSON.stringify(reply)}: ${shape}`);
      continue;
    }
    const pending = typeof reply.id === 'string' ? (byId.get(reply.id) ?? []) : withoutId;
    // Among frames sharing an id, take the first whose expected answer this is; without an id, strictly the next one.
    const at = typeof reply.id === 'string' ? pending.findIndex((frame) => replyMatches(frame.expected, reply)) : 0;
    const frame = pending[at];
    if (frame === undefined || at === -1) {
      violations.push(`reply ${JSON.stringify(reply)} answers no frame sent${pending[0] ? `; expected ${describeExpected(pending[0].expected)} for ${describeFrame(pending[0])}` : ''}`);
      continue;
    }
    pending.splice(at, 1);
    if (!replyMatches(frame.expected, reply)) {
      violations.push(`got ${JSON.stringify(reply)}, expected ${describeExpected(frame.expected)} for ${describeFrame(frame)}`);
    } else if (reply.type === 'error') {
      const paths = pathsError(reply, frame.expected.reply === 'error' ? frame.expected.frame : undefined);
      if (paths) violations.push(`${reply.code} for ${describeFrame(frame)}: ${paths}: ${JSON.stringify(reply.errors)}`);
    }
    outcomes.push({ sent: frame, reply });
  }
  for (const frame of [...withoutId, ...[...byId.values()].flat()]) {
    violations.push(`no reply (expected ${describeExpected(frame.expected)}) to ${describeFrame(frame)}`);
  }
  return outcomes;
}

function replyShapeError(reply: Frame): string | undefined {
  if (reply.type === 'ack') {
    return typeof reply.id === 'string' && Object.keys(reply).length === 2 ? undefined : 'an ack is exactly {type, id}';
  }
  if (reply.type !== 'error') return 'only ack and error frames answer a device frame';
  if (typeof reply.code !== 'string' || !Object.hasOwn(ERRORS, reply.code)) return 'code is not in ERRORS (gateway/errors.ts)';
  if (typeof reply.message !== 'string' || reply.message.length === 0) return 'no message';
  if ('id' in reply && typeof reply.id !== 'string') return 'an id, when present, is the frame\'s string id';
  const allowed = new Set(['type', 'id', 'code', 'message', 'errors']);
  const extra = Object.keys(reply).find((key) => !allowed.has(key));
  return extra === undefined ? undefined : `unexpected field ${extra}`;
}

// docs/protocol.md: `errors` comes with schema failures, at most 20, and each
// `path` is a JSON pointer into the frame; for a missing or extra property it
// points at that property, so at least its parent exists.
function pathsError(reply: Frame, frame: unknown): string | undefined {
  if (!SCHEMA_CODES.has(reply.code as string)) return reply.errors === undefined ? undefined : 'errors on a code that is not a schema failure';
  const errors = reply.errors;
  if (!Array.isArray(errors) || errors.length === 0 || errors.length > MAX_REPORTED_ERRORS) return `errors must list 1-${MAX_REPORTED_ERRORS} failures`;
  for (const error of errors as Array<{ path?: unknown; message?: unknown }>) {
    if (typeof error.path !== 'string' || typeof error.message !== 'string') return 'each error is {path, message}';
    if (!error.path.startsWith('/')) return `path ${JSON.stringify(error.path)} is not a JSON pointer`;
    const tokens = error.path.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (!resolves(frame, tokens) && !isObject(resolve(frame, tokens.slice(0, -1)))) {
      return `path ${JSON.stringify(error.path)} points at nothing in the frame (a key with "/" or "~" must be escaped ~1, ~0)`;
    }
  }
  return undefined;
}

function resolve(value: unknown, tokens: string[]): unknown {
  let node = value;
  for (const token of tokens) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return undefined;
    node = (node as Record<string, unknown>)[token];
  }
  return node;
}

function resolves(value: unknown, tokens: string[]): boolean {
  const parent = resolve(value, tokens.slice(0, -1));
  return typeof parent === 'object' && parent !== null && Object.hasOwn(parent, tokens.at(-1)!);
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
