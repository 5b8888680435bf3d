/** A minimal typed event emitter that runs the same in browsers and Node (no node:events). */
export class Emitter<Events extends { [K in keyof Events]: (arg: never) => void }> {
  readonly #listeners = new Map<keyof Events, Set<(arg: never) => void>>();

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  protected emit<K extends keyof Events>(event: K, arg: Parameters<Events[K]>[0]): void {
    for (const listener of this.#listeners.get(event) ?? []) (listener as (arg: unknown) => void)(arg);
  }

  protected hasListeners(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }
}
