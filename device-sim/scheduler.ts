/**
 * A task that can be scheduled again and again without allocating: each device
 * owns a few of these (next reading, reconnect, resend) for its whole life.
 */
export class Task {
  dueAt = 0;
  /** Position in the scheduler's heap; -1 when not scheduled. */
  index = -1;
  constructor(readonly run: () => void) {}

  get scheduled(): boolean {
    return this.index !== -1;
  }
}

/**
 * One timer for the whole fleet: a binary min-heap of tasks ordered by due time,
 * driven by a single setTimeout armed for the earliest one. 5,000 devices then
 * cost one heap entry each instead of 5,000 live timers, and rescheduling a
 * device is O(log n) with no garbage.
 */
export class Scheduler {
  readonly #heap: Task[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #stopped = false;

  /** Runs task at `at` (Date.now() clock); moves it if it was already scheduled. */
  at(task: Task, at: number): void {
    if (this.#stopped) return;
    if (task.index !== -1) {
      const earlier = at < task.dueAt;
      task.dueAt = at;
      if (earlier) this.#up(task.index);
      else this.#down(task.index);
    } else {
      task.dueAt = at;
      task.index = this.#heap.length;
      this.#heap.push(task);
      this.#up(task.index);
    }
    this.#arm();
  }

  after(task: Task, delayMs: number): void {
    this.at(task, Date.now() + delayMs);
  }

  cancel(task: Task): void {
    const i = task.index;
    if (i === -1) return;
    const last = this.#heap.pop()!;
    task.index = -1;
    if (last !== task) {
      this.#heap[i] = last;
      last.index = i;
      this.#up(i);
      this.#down(last.index);
    }
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Cancels everything; later `at` calls are ignored. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const task of this.#heap) task.index = -1;
    this.#heap.length = 0;
  }

  #arm(): void {
    const first = this.#heap[0];
    if (!first) return;
    if (this.#timer && this.#timerAt <= first.dueAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = first.dueAt;
    this.#timer = setTimeout(this.#fire, Math.max(0, first.dueAt - Date.now()));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = Date.now();
    // Bounded per turn so a backlog (after a long GC pause) cannot starve socket I/O.
    for (let ran = 0; ran < 2000; ran++) {
      const first = this.#heap[0];
      if (!first || first.dueAt > now) break;
      this.cancel(first);
      first.run();
    }
    if (this.#heap.length > 0) this.#arm();
  };

  #up(i: number): void {
    const heap = this.#heap;
    const task = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (above.dueAt <= task.dueAt) break;
      heap[i] = above;
      above.index = i;
      i = parent;
    }
    heap[i] = task;
    task.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const task = heap[i]!;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]!.dueAt < heap[child]!.dueAt) child++;
      const below = heap[child]!;
      if (below.dueAt >= task.dueAt) break;
      heap[i] = below;
      below.index = i;
      i = child;
    }
    heap[i] = task;
    task.index = i;
  }
}
