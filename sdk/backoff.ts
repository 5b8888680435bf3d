export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** The SDK's default `reconnect: { minMs, maxMs }`. */
export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };
/** After rate_limited / internal_error: the connection is fine, so retry sooner. */
export const RESEND_BACKOFF: BackoffOptions = { baseMs: 250, capMs: 5_000 };

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base*2^attempt)).
 * Full jitter (rather than +/- a fraction) spreads 5,000 devices that lost the
 * gateway at the same instant evenly over the window, so the restarted gateway
 * is not met by one synchronized wave per attempt.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
