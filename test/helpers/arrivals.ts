/** Items that arrive over time (frames, MQTT messages), awaited one by one in arrival order. */
export class Arrivals<T> {
  readonly #queued: T[] = [];
  readonly #waiters: Array<(item: T) => void> = [];

  constructor(private readonly what: string) {}

  push(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter) waiter(item);
    else this.#queued.push(item);
  }

  next(timeoutMs: number): Promise<T> {
    if (this.#queued.length > 0) return Promise.resolve(this.#queued.shift()!);
    return new Promise((resolve, reject) => {
      const waiter = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      // A waiter that timed out must leave the line, or it would swallow the next item.
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${this.what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}
