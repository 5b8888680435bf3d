import { Ajv, type ValidateFunction } from 'ajv';
import { redactSecrets } from '../../gateway/device/redact-secrets.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorCode } from '../../gateway/errors.js';
import type { ModelSpec } from './frame-plans.js';
import type { WireFrame } from './render-frame.js';

// ajv-formats ships CommonJS with its function on `default`.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** What a backend on devices/{id}/telemetry or /state must get for an acked frame. */
export type Publication =
  | { topic: 'telemetry'; id: string; ts: number | undefined; data: unknown }
  | { topic: 'state'; state: unknown };

export interface DeadLetter {
  code: ErrorCode;
  frame: string;
  frameEncoding?: 'base64';
  frameBytes?: number;
}

export type Expected =
  | { reply: 'ack'; id: string; publication: Publication }
  /** `frame` is the parsed frame (if it parsed), for checking the error paths against. */
  | { reply: 'error'; id: string | undefined; code: ErrorCode; frame: unknown };

const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch ms of an RFC 3339 date-time, worked out field by field: Date.parse is
 * not an RFC 3339 parser (it reads "0049-01-01 00:00:00Z" as 2049, and a leap
 * second as NaN). A leap second counts as the next second, as POSIX time does;
 * fraction digits past milliseconds are cut, as Date.parse cuts them.
 */
export function epochMsOf(dateTime: string): number {
  const m = RFC_3339.exec(dateTime);
  if (!m) return Number.NaN;
  const [, year, month, day, hour, minute, second, fraction = '', sign, offsetH = '0', offsetM = '0'] = m;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, '0').slice(0, 3)));
  const offsetMs = (Number(offsetH) * 60 + Number(offsetM)) * 60_000 * (sign === '-' ? -1 : 1);
  return date.getTime() - offsetMs;
}

/** Codes whose frames are published on gateway/deadletter/{id} (docs/protocol.md). */
export const DEAD_LETTER_CODES: ReadonlySet<string> = new Set(['bad_json', 'bad_frame', 'invalid_telemetry', 'invalid_state']);

/** The dead letter a refused frame must produce: its first 4 KiB once secrets are redacted, as text or base64. */
export function deadLetterOf(wire: WireFrame, code: ErrorCode): DeadLetter {
  const encoding = wire.binary ? 'latin1' : 'utf8';
  const redacted = Buffer.from(redactSecrets(wire.bytes.toString(encoding)), encoding);
  return {
    code,
    frame: redacted.subarray(0, DEAD_LETTER_BYTES).toString(wire.binary ? 'base64' : 'utf8'),
    ...(wire.binary ? { frameEncoding: 'base64' as const } : {}),
    ...(wire.bytes.length > DEAD_LETTER_BYTES ? { frameBytes: wire.bytes.length } : {}),
  };
}

const FRAME_TYPES = new Set(['telemetry', 'state', 'command_result']);
const DEAD_LETTER_BYTES = 4096;
const MESSAGE_ID = { type: 'string', minLength: 1, maxLength: 128 } as const;

/**
 * The answer docs/protocol.md and docs/errors.md promise for a frame, worked
 * out from the bytes alone. The envelopes are written here again from the
 * protocol tables rather than imported from gateway/device/validate.ts, so a
 * gateway that drifts from its documented contract disagrees with this.
 */
export class FrameOracle {
  readonly #telemetry = new Map<string, ValidateFunction>();
  readonly #state = new Map<string, ValidateFunction>();

  constructor(models: readonly ModelSpec[]) {
    const ajv = new Ajv({ strict: true, allErrors: false });
    addFormats(ajv);
    for (const model of models) {
      this.#telemetry.set(model.name, ajv.compile({
        type: 'object',
        properties: {
          type: { const: 'telemetry' },
          id: MESSAGE_ID,
          ts: { anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', format: 'date-time' }] },
          data: model.telemetry,
        },
        required: ['type', 'id', 'data'],
        additionalProperties: false,
      }));
      this.#state.set(model.name, ajv.compile({
        type: 'object',
        properties: { type: { const: 'state' }, id: MESSAGE_ID, state: model.state },
        required: ['type', 'id', 'state'],
        additionalProperties: false,
      }));
    }
  }

  expect(model: string, wire: WireFrame): Expected {
    const refuse = (code: ErrorCode, id?: string, frame?: unknown): Expected => ({ reply: 'error', id, code, frame });

    if (wire.binary) return refuse('bad_frame');
    let frame: unknown;
    try {
      frame = JSON.parse(wire.bytes.toString('utf8'));
    } catch {
      return refuse('bad_json');
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return refuse('bad_frame');
    const { type, id: rawId } = frame as { type?: unknown; id?: unknown };
    // A hello after authentication is refused (and, carrying the token, never dead-lettered: duePublications).
    if (type === 'hello') return refuse('bad_frame', typeof rawId === 'string' ? rawId : undefined);
    // An unparsed frame (unknown type) has no id to echo: test/telemetry.test.ts pins that.
    if (typeof type !== 'string' || !FRAME_TYPES.has(type)) return refuse('bad_frame');
    const id = typeof rawId === 'string' ? rawId : undefined;
    if (type === 'command_result') return refuse('invalid_command_result', id, frame);

    const valid = (type === 'telemetry' ? this.#telemetry : this.#state).get(model)!;
    if (!valid(frame)) return refuse(type === 'telemetry' ? 'invalid_telemetry' : 'invalid_state', id, frame);
    const message = frame as { id: string; ts?: number | string; data?: unknown; state?: unknown };
    if (type === 'state') return { reply: 'ack', id: message.id, publication: { topic: 'state', state: message.state } };
    const ts = typeof message.ts === 'string' ? epochMsOf(message.ts) : message.ts;
    return { reply: 'ack', id: message.id, publication: { topic: 'telemetry', id: message.id, ts, data: message.data } };
  }
}
