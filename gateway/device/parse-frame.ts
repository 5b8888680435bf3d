import { fail, ok, type Result } from '../errors.js';

/**
 * Frame types known once a device is authenticated: `hello` parses so that it can
 * be refused without a dead letter (it carries the token).
 */
export const DEVICE_FRAME_TYPES: ReadonlySet<string> = new Set(['telemetry', 'state', 'command_result', 'hello']);

export interface Frame {
  type: string;
  /** The device's message id, echoed in ack and error frames when it is a string. */
  id?: unknown;
  [key: string]: unknown;
}

/** Bytes -> a JSON object with a known `type`; the schema check comes later. */
export function parseFrame(raw: Buffer, isBinary: boolean, types: ReadonlySet<string> = DEVICE_FRAME_TYPES): Result<Frame> {
  if (isBinary) return fail('bad_frame');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail('bad_json');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('bad_frame');
  const frame = value as Frame;
  if (typeof frame.type !== 'string' || !types.has(frame.type)) return fail('bad_frame');
  return ok(frame);
}

/** The id to echo back for a frame that may not have parsed. */
export function frameId(frame: Frame | undefined): string | undefined {
  return typeof frame?.id === 'string' ? frame.id : undefined;
}
