// Payloads of the frames and topics that no model schema describes, as JSON Schema,
// for the AsyncAPI document. The frames a device sends are checked by the validators'
// own schemas (device/validate.ts, command/validate-command.ts), which the document uses directly.
import { COMMAND_STATUSES } from '../command/queue.js';
import { ERRORS } from '../errors.js';

const epochMs = { type: 'integer', minimum: 0, description: 'epoch milliseconds' };
const device = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' };
const code = { type: 'string', enum: Object.keys(ERRORS) };
const pathErrors = {
  type: 'array',
  maxItems: 20,
  items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] },
};
const object = (properties: Record<string, object>, required: string[] = Object.keys(properties)) => ({
  type: 'object',
  properties,
  required,
});

export const HELLO_FRAME = object({ type: { const: 'hello' }, token: { type: 'string', description: 'the device token or JWT (browsers, which cannot set the Authorization header)' } });
export const WELCOME_FRAME = object({
  type: { const: 'welcome' },
  device,
  model: { type: 'string' },
  heartbeatMs: { type: 'integer' },
  maxFrameBytes: { type: 'integer' },
});
export const ACK_FRAME = object({ type: { const: 'ack' }, id: { type: 'string' } });
export const ERROR_FRAME = object(
  { type: { const: 'error' }, id: { type: 'string' }, code, message: { type: 'string' }, errors: pathErrors },
  ['type', 'code', 'message'],
);
export const commandFrame = (commands: object) => ({
  ...object({ type: { const: 'command' }, id: { type: 'string' }, name: { type: 'string' }, params: { type: 'object' }, expiresAt: epochMs }),
  description: "A backend's command; name and params follow the model's command schema",
  allOf: [commands],
});

export const telemetryPayload = (data: object) =>
  object({ device, model: { type: 'string' }, id: { type: 'string' }, ts: epochMs, receivedAt: epochMs, data });
export const statePayload = (state: object) => object({ device, state, updatedAt: epochMs });
export const PRESENCE_PAYLOAD = object({ online: { type: 'boolean' }, since: epochMs, connections: { type: 'integer', minimum: 0 } });
export const DEAD_LETTER_PAYLOAD = object(
  {
    device,
    receivedAt: epochMs,
    code,
    errors: pathErrors,
    frame: { type: 'string', description: 'the refused frame, first 4096 bytes, secrets redacted' },
    frameEncoding: { const: 'base64' },
    frameBytes: { type: 'integer', description: 'full size of a cut frame' },
  },
  ['device', 'receivedAt', 'code', 'errors', 'frame'],
);
export const COMMAND_STATUS_PAYLOAD = object(
  {
    id: { type: 'string' },
    device,
    status: { enum: [...COMMAND_STATUSES] },
    at: epochMs,
    result: { type: 'object' },
    error: object({ code: { type: 'string' }, message: { type: 'string' }, errors: pathErrors }, ['code']),
  },
  ['id', 'device', 'status', 'at'],
);

const jsonObject = { type: 'object', description: 'keys of the model\'s desired.schema.json' };
export const DESIRED_FRAME = {
  ...object({ type: { const: 'desired' }, version: { type: 'integer', minimum: 1 }, state: jsonObject, delta: jsonObject }),
  description: 'The full desired state and the keys the device has not reported yet; after welcome and on every accepted change',
};
export const DESIRED_SET_PAYLOAD = object(
  {
    state: { type: 'object', description: "a partial patch: null deletes a key; the merged state must match the model's desired.schema.json" },
    version: { type: 'integer', minimum: 0, description: "must equal the twin's current version when present" },
  },
  ['state'],
);
export const DESIRED_STATUS_PAYLOAD = object(
  {
    status: { enum: ['accepted', 'rejected'] },
    version: { type: 'integer', minimum: 0 },
    code,
    message: { type: 'string' },
    errors: pathErrors,
  },
  ['status', 'version'],
);
export const TWIN_PAYLOAD = object({ device, version: { type: 'integer', minimum: 0 }, desired: jsonObject, reported: jsonObject, delta: jsonObject, updatedAt: epochMs });
