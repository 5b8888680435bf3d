import { isIPv6 } from 'node:net';

export interface ThrottleOptions {
  /** Failures an address may have before its checks are spaced out. */
  freeFailures: number;
  /** Spacing after the first failure past freeFailures; doubles with each further one. */
  baseDelayMs: number;
  /** Largest spacing, and the longest a CONNECT is held: one that would wait longer is refused. */
  maxDelayMs: number;
  /** An address with no failure for this long starts afresh. */
  forgetAfterMs: number;
  /** Addresses remembered at most; past it the one whose last failure is oldest is forgotten. */
  maxAddresses: number;
}

interface AddressState {
  failures: number;
  lastFailureAt: number;
  /** No password check of this address starts before this time. */
  nextCheckAt: number;
}

/**
 * Spaces out the password checks of an address that keeps failing: one guess per
 * delay instead of as many as it can open sockets. The map is bounded, so an
 * attacker with many addresses costs a fixed amount of memory; such an attacker
 * is still held back by the KDF limiter, which every uncached check goes through.
 * A success does not clear the count: one valid account would otherwise let a
 * guesser reset its own delay between guesses.
 */
export class LoginFailures {
  readonly #byAddress = new Map<string, AddressState>();

  constructor(private readonly options: ThrottleOptions) {}

  /** Addresses remembered (at most maxAddresses). */
  get size(): number {
    return this.#byAddress.size;
  }

  /**
   * Reserves the address's next check slot: ms to wait before checking (0 = now),
   * or undefined when the wait would exceed maxDelayMs (refuse at once instead of
   * holding yet another socket).
   */
  reserve(address: string, now = Date.now()): number | undefined {
    const state = this.#current(address, now);
    if (!state) return 0;
    const startAt = Math.max(now, state.nextCheckAt);
    if (startAt - now > this.options.maxDelayMs) return undefined;
    state.nextCheckAt = startAt + this.#spacing(state.failures);
    return startAt - now;
  }

  /** Counts a wrong password or unknown user name from this address. */
  recordFailure(address: string, now = Date.now()): void {
    const state = this.#current(address, now) ?? { failures: 0, lastFailureAt: now, nextCheckAt: 0 };
    // Re-inserting keeps the Map in order of last failure, so the first key is the one to evict.
    this.#byAddress.delete(address);
    if (this.#byAddress.size >= this.options.maxAddresses) this.#byAddress.delete(this.#byAddress.keys().next().value!);
    state.failures++;
    state.lastFailureAt = now;
    state.nextCheckAt = Math.max(state.nextCheckAt, now + this.#spacing(state.failures));
    this.#byAddress.set(address, state);
  }

  #current(address: string, now: number): AddressState | undefined {
    const state = this.#byAddress.get(address);
    if (state && now - state.lastFailureAt > this.options.forgetAfterMs) {
      this.#byAddress.delete(address);
      return undefined;
    }
    return state;
  }

  #spacing(failures: number): number {
    const { freeFailures, baseDelayMs, maxDelayMs } = this.options;
    if (failures <= freeFailures) return 0;
    return Math.min(baseDelayMs * 2 ** (failures - freeFailures - 1), maxDelayMs);
  }
}

/**
 * The key failures are counted under. IPv4 addresses count one by one; an IPv6
 * client usually holds a whole /64, so counting single IPv6 addresses would let
 * it step around the throttle (and flush the map) for free.
 */
export function addressKey(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  // Every CONNECT comes through here, guesses included: IPv4 skips the IPv6 parsing.
  if (!remoteAddress.includes(':')) return remoteAddress;
  const address = remoteAddress.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
