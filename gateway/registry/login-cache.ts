import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Backends are few (services, not devices); past this the least recently used
// entry goes, which costs that backend one KDF run on its next CONNECT.
const MAX_USERS = 4096;

/**
 * Remembers successful password checks so a backend that logged in before is
 * verified without a KDF run (a reconnect must not queue behind guesses).
 *
 * What is kept is an HMAC, under a secret made at start and never stored, of the
 * user name, the password and the stored password hash: never the password, and
 * nothing of it is written to disk. A new stored hash (the user removed and added
 * again) no longer matches, so a changed password misses by construction.
 * The process sees every password in plain text at CONNECT anyway, so the HMAC
 * gives away nothing a reader of its memory would not already have.
 */
export class LoginCache {
  readonly #secret = randomBytes(32);
  // One entry per user (a user has one stored hash); Map order is least recently used first.
  readonly #byUser = new Map<string, Buffer>();

  has(name: string, password: string, passwordHash: string): boolean {
    const remembered = this.#byUser.get(name);
    if (!remembered || !timingSafeEqual(remembered, this.#mac(name, password, passwordHash))) return false;
    this.#byUser.delete(name);
    this.#byUser.set(name, remembered);
    return true;
  }

  remember(name: string, password: string, passwordHash: string): void {
    this.#byUser.delete(name);
    if (this.#byUser.size >= MAX_USERS) this.#byUser.delete(this.#byUser.keys().next().value!);
    this.#byUser.set(name, this.#mac(name, password, passwordHash));
  }

  forget(name: string): void {
    this.#byUser.delete(name);
  }

  #mac(name: string, password: string, passwordHash: string): Buffer {
    // JSON of an array: no choice of name and password can collide with another.
    return createHmac('sha256', this.#secret).update(JSON.stringify([name, password, passwordHash])).digest();
  }
}
