import type { OfflineInfo } from './types.js';

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

// The gateway did not take the message this time (too fast, a failed publish, the cluster's
// store away): it asks for a resend. Every other refusal is final.
const RETRIED = new Set(['rate_limited', 'internal_error', 'store_unavailable']);

/** Error frames after which the gateway will never accept that message: resending cannot help. */
export function isFinalRejection(code: string): boolean {
  return !RETRIED.has(code);
}

/** What a close means: the error code it stands for (an HTTP 401/403 on the upgrade is unauthorized too), and the cause of a failed attempt. */
export function offlineInfo(code: number, failure: string | undefined, welcomed: boolean): OfflineInfo {
  const reason = failure === 'http_401' || failure === 'http_403' ? 'unauthorized' : closeReason(code);
  const info: OfflineInfo = { code, welcomed };
  if (reason) info.reason = reason;
  if (failure && !welcomed) info.cause = failure;
  return info;
}

// After these, reconnecting cannot help (4401) or would fight another copy of the device (4409).
const FINAL_CLOSES: Record<string, string> = {
  unauthorized: 'the gateway refused the token (4401)',
  replaced: 'a newer connection of this device took over (4409)',
};

/** Why the device must stop after a close for `reason`, or undefined when it reconnects. */
export function finalClose(reason: string): string | undefined {
  return FINAL_CLOSES[reason];
}
