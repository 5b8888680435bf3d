import { fail, ok, type Result } from '../errors.js';
import type { BackendUser, UserRegistry } from '../registry/users.js';
import { KdfLimiter } from './kdf-limiter.js';
import { LoginFailures, type ThrottleOptions } from './login-failures.js';

export interface LoginAttempt {
  /** Key of the remote address (addressKey), failures are counted under it. */
  address: string;
  name: string;
  password: string;
  /** True once the client hung up: a check it no longer waits for is skipped. */
  gone(): boolean;
}

export interface LoginLimits {
  /** Password checks (KDF runs) at once. */
  concurrency: number;
  /** Checks waiting for a slot; past it a CONNECT is refused with auth_busy at once. */
  queue: number;
}

export interface Login {
  user: BackendUser;
  /** Recalled from an earlier check in this process, without a KDF run. */
  cached: boolean;
}

export interface LoginCheck {
  (attempt: LoginAttempt): Promise<Result<Login>>;
  /** Checks running and waiting, for log lines. */
  load(): { running: number; queued: number };
}

// Three free failures cover a mistyped password and a stale one in a config; then one
// check per 0.25, 0.5, 1, 2, 4 s from that address, 4 s at most, for ten minutes.
const THROTTLE: ThrottleOptions = {
  freeFailures: 3,
  baseDelayMs: 250,
  maxDelayMs: 4000,
  forgetAfterMs: 10 * 60_000,
  maxAddresses: 10_000,
};

// Checks one address may have in progress (waiting its turn, queued or running). A
// flood from one address then holds two slots and leaves the rest to everyone else;
// backends behind one NAT that all start at once get in two at a time, retrying on 3.
const CHECKS_PER_ADDRESS = 2;

const GONE = Symbol('client gone');

/**
 * Decides a backend CONNECT so that guessing cannot lock anyone out: a login this
 * process verified before is recalled without the KDF; every other check needs one of
 * its address's few slots, waits the address's turn (LoginFailures), then takes a
 * bounded KDF slot; short of any of these it is refused at once.
 * Refusals for load (auth_busy, auth_throttled) do not depend on the name, and an
 * unknown name still costs a KDF run (UserRegistry.verify), so neither tells which
 * names exist.
 */
export function createLoginCheck(users: UserRegistry, limits: LoginLimits): LoginCheck {
  const kdf = new KdfLimiter(limits.concurrency, limits.queue);
  const failures = new LoginFailures(THROTTLE);
  // An address has an entry only while it has a check in progress: its size is bounded
  // by the KDF slots and queue plus the CONNECTs waiting their address's turn (4 s at most).
  const inProgress = new Map<string, number>();

  async function check(attempt: LoginAttempt): Promise<Result<Login>> {
    const { address, name, password } = attempt;
    const recalled = await users.recall(name, password);
    if (recalled) return ok({ user: recalled, cached: true });

    const held = inProgress.get(address) ?? 0;
    if (held >= CHECKS_PER_ADDRESS) return fail('auth_throttled');
    inProgress.set(address, held + 1);
    try {
      return await checkPassword(attempt);
    } finally {
      const left = inProgress.get(address)! - 1;
      if (left === 0) inProgress.delete(address);
      else inProgress.set(address, left);
    }
  }

  async function checkPassword(attempt: LoginAttempt): Promise<Result<Login>> {
    const { address, name, password } = attempt;
    const wait = failures.reserve(address);
    if (wait === undefined) return fail('auth_throttled');
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());

    const checked = kdf.run(async () => (attempt.gone() ? GONE : users.verify(name, password)));
    if (!checked) return fail('auth_busy');
    const user = await checked;
    if (user === GONE) return fail('unauthorized'); // nobody is left to tell
    if (!user) {
      failures.recordFailure(address);
      return fail('unauthorized');
    }
    return ok({ user, cached: false });
  }
  return Object.assign(check, { load: () => kdf.load });
}
