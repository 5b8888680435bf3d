// Every error code the gateway can report, defined once. The same code string
// appears in the device's error frame, in the log line and in docs/errors.md
// (test/errors-documented.test.ts keeps the two in step).
export const ERRORS = {
  bad_json: { message: 'Frame is not valid JSON' },
  bad_frame: { message: 'Frame must be a JSON text object with a known "type"' },
  invalid_telemetry: { message: "Telemetry does not match the device model's schema" },
  invalid_state: { message: "State does not match the device model's schema" },
  rate_limited: { message: 'Too many messages; this one was not accepted, resend it later' },
  unauthorized: { message: 'Token or JWT missing, unknown, invalid, expired or revoked', close: 4401 },
  auth_timeout: { message: 'No authentication within auth.timeoutMs', close: 4408 },
  replaced: { message: 'A newer connection of this device took over', close: 4409 },
  flooding: { message: 'Too many refused frames (limits.refusalsPerSec, limits.refusalBurst); the connection was closed', close: 4429 },
  slow_consumer: { message: 'Peer did not read what the gateway sent it; disconnected', close: 4413 },
  handshake_timeout: { message: 'TLS handshake and WebSocket upgrade not finished within auth.timeoutMs; socket destroyed' },
  too_many_handshakes: { message: 'limits.maxPendingHandshakes sockets already mid-handshake; socket destroyed' },
  frame_too_large: { message: 'Frame exceeds limits.maxFrameBytes', close: 1009 },
  shutting_down: { message: 'Gateway is shutting down', close: 1001 },
  internal_error: { message: 'Gateway could not handle the frame; it was not accepted, resend it later', close: 1011 },
  // Commands (reported on devices/{id}/commands/{cmdId}/status, or to the device for results).
  invalid_command: { message: "Command is not valid JSON, or does not match the envelope or the device model's command schema" },
  queue_full: { message: "The device's command queue is full (commands.maxQueuePerDevice)" },
  invalid_command_result: { message: 'command_result does not match the protocol, or no delivered command with this id awaits a result' },
  // Desired state (reported on devices/{id}/desired/status).
  invalid_desired: { message: "Desired patch is not valid JSON, does not match the envelope, or the merged desired state does not match the model's desired schema" },
  version_conflict: { message: "The patch's version is not the twin's current version; read devices/{id}/twin and retry" },
  // MQTT side: logged when a backend is refused (MQTT 3.1.1 has no frame to carry them).
  publish_denied: { message: 'Backend publish refused: gateway-only topic or outside the user\'s ACL' },
  subscribe_denied: { message: 'Backend subscription refused: outside the user\'s ACL' },
  auth_busy: { message: 'Backend CONNECT refused: too many password checks waiting (mqtt.authQueue)' },
  auth_throttled: { message: 'Backend CONNECT refused: too many logins in progress or failed from this address; retry later' },
  // Broker state in the store (docs/durability.md): logged, never sent to a device.
  session_queue_full: { message: 'A persistent MQTT session reached mqtt.maxSessionQueue; its oldest queued messages are dropped' },
  session_expired: { message: 'A persistent MQTT session was offline longer than mqtt.sessionExpiryMs and was dropped' },
  store_unavailable: { message: 'The gateway store refused a write or cannot be reached (disk full, locked, Redis away); nothing of it was acked: send it again later' },
  // Scale-out (docs/scale-out.md): logged.
  node_lost: { message: 'A gateway node stopped beating in Redis; a survivor corrected the presence of its devices' },
  worker_died: { message: 'A gateway worker process of start --workers exited; the primary started another' },
  // Provisioning (CLI) errors.
  invalid_device_id: { message: 'Device id must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' },
  unknown_model: { message: 'No schemas for this device model in schemas/models/' },
  device_exists: { message: 'A device with this id is already provisioned' },
  unknown_device: { message: 'No device with this id' },
  invalid_user_name: { message: 'User name must match ^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$' },
  empty_password: { message: 'Password must not be empty' },
  invalid_topic_filter: { message: 'ACL pattern is not a valid MQTT topic filter' },
  user_exists: { message: 'A user with this name already exists' },
  unknown_user: { message: 'No user with this name' },
} as const satisfies Record<string, { message: string; close?: number }>;

export type ErrorCode = keyof typeof ERRORS;

/** One schema failure, as sent to devices: the JSON pointer and ajv's message. */
export interface PathError {
  path: string;
  message: string;
}

export interface GatewayError {
  code: ErrorCode;
  message: string;
  errors?: PathError[];
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: GatewayError };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail(code: ErrorCode, errors?: PathError[]): { ok: false; error: GatewayError } {
  const error: GatewayError = { code, message: ERRORS[code].message };
  if (errors) error.errors = errors;
  return { ok: false, error };
}

export function closeCodeOf(code: ErrorCode): number | undefined {
  const entry: { message: string; close?: number } = ERRORS[code];
  return entry.close;
}

/** Thrown at startup (never at run time) for config a user must fix; bin/ prints it without a stack. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
