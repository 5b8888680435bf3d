// Close codes of device protocol v1, by the gateway error code they stand for
// (gateway/errors.ts defines the same pairs from the gateway's side).
const CLOSE_CODE_NAMES: Record<number, string> = {
  1001: 'shutting_down',
  1009: 'frame_too_large',
  1011: 'internal_error',
  4401: 'unauthorized',
  4408: 'auth_timeout',
  4409: 'replaced',
  4413: 'slow_consumer',
  4429: 'flooding',
};

/** The error code a close stands for, or undefined for a normal or network close. */
export function closeReason(code: number): string | undefined {
  return CLOSE_CODE_NAMES[code];
}

/** Error frames after which the gateway will never accept that message: resending cannot help. */
export function isFinalRejection(code: string): boolean {
  return code !== 'rate_limited' && code !== 'internal_error';
}
