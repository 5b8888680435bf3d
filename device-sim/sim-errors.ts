// Codes for the simulator's own failures (bad flags, unreadable token files,
// provisioning conflicts). Gateway codes pass through unchanged as strings.
export const SIM_ERRORS = {
  bad_option: 'A command-line option has an invalid value',
  bad_tokens_file: 'The tokens file is missing or not a JSON array of {device, model, token}',
  not_enough_tokens: 'The tokens file holds fewer devices than --devices asks for',
  device_exists: 'A device with this id is already provisioned, and its token is not in the tokens file',
  provision_failed: 'The registry refused to add a device',
} as const;

export type SimErrorCode = keyof typeof SIM_ERRORS;

export interface SimError {
  code: SimErrorCode;
  message: string;
}

export type SimResult<T> = { ok: true; value: T } | { ok: false; error: SimError };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** `message` says what to change; it defaults to the code's generic text. */
export function fail(code: SimErrorCode, message?: string): { ok: false; error: SimError } {
  return { ok: false, error: { code, message: message ?? SIM_ERRORS[code] } };
}
