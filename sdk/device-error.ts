/** One schema failure the gateway reported: a JSON pointer into the frame and ajv's message. */
export interface PathError {
  path: string;
  message: string;
}

/**
 * A refusal, as a value with a stable code: the gateway's (docs/errors.md:
 * invalid_telemetry, unauthorized, ...) or the SDK's own (outbox_full, closed,
 * duplicate_id, not_connected; see docs/sdk.md).
 */
export class DeviceError extends Error {
  override name = 'DeviceError';

  constructor(
    readonly code: string,
    message: string,
    readonly errors: PathError[] = [],
  ) {
    super(message);
  }
}

/** The DeviceError an error frame stands for (docs/protocol.md: code, message, errors). */
export function errorOfFrame(frame: Record<string, unknown>): DeviceError {
  const code = typeof frame.code === 'string' ? frame.code : 'unknown_error';
  const message = typeof frame.message === 'string' ? frame.message : code;
  return new DeviceError(code, message, Array.isArray(frame.errors) ? (frame.errors as PathError[]) : []);
}
