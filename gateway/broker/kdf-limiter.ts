/**
 * Runs password checks a few at a time, with a short bounded queue behind them.
 *
 * Each scrypt run holds a libuv threadpool thread (4 by default, shared with fs and
 * dns) and 32 MiB for ~100 ms. Unbounded, 300 guesses at once queue 300 runs in the
 * threadpool, and a right password waits behind all of them; bounded, the excess is
 * refused at once and the threadpool stays free for everything else.
 */
export class KdfLimiter {
  readonly #waiting: Array<() => void> = [];
  #running = 0;

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
  ) {}

  /** Checks running now, and checks waiting for a slot (for log lines). */
  get load(): { running: number; queued: number } {
    return { running: this.#running, queued: this.#waiting.length };
  }

  /** Runs `job` now or once a slot frees; undefined when all slots and the queue are taken. */
  run<T>(job: () => Promise<T>): Promise<T> | undefined {
    if (this.#running >= this.concurrency && this.#waiting.length >= this.queueLimit) return undefined;
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.#running++;
        // then(job): a job that throws synchronously still frees its slot.
        Promise.resolve()
          .then(job)
          .then(resolve, reject)
          .finally(() => {
            this.#running--;
            this.#waiting.shift()?.();
          });
      };
      if (this.#running < this.concurrency) start();
      else this.#waiting.push(start);
    });
  }
}
