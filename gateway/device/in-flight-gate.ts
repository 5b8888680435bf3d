/** A connection the gate can stop and let go on; DeviceConnection. */
export interface GatedReader {
  /** Called when its turn comes: it may read again (if nothing else holds it). */
  letIn(): void;
}

/**
 * limits.maxInFlightTotal: device publishes in flight across the whole gateway. Past it, a
 * connection that brings another frame stops being read and waits in line; each publish
 * that settles under the bound lets the first in line read again. What waits stays in the
 * kernel's socket buffers, where TCP pushes back on the devices, and not in the heap: a
 * single read can bring a device's whole window, so the per-connection bound alone let
 * 200 devices keep 12,800 messages alive in the gateway (bench/, saturation), and copying
 * them in each young-generation collection was a large share of its CPU.
 */
export class InFlightGate {
  #inFlight = 0;
  // A Set keeps insertion order: first stopped, first let in.
  readonly #waiting = new Set<GatedReader>();

  constructor(private readonly max: number) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Counts a publish; false when its connection must stop reading until letIn(). */
  started(reader: GatedReader): boolean {
    if (++this.#inFlight <= this.max) return true;
    this.#waiting.add(reader);
    return false;
  }

  settled(): void {
    const inFlight = --this.#inFlight;
    if (inFlight >= this.max || this.#waiting.size === 0) return;
    // One in per settle under the bound; at half of it (those let in had little to send) all of
    // them, or a connection could wait for settles that never come.
    for (const next of this.#waiting) {
      this.#waiting.delete(next);
      next.letIn();
      if (inFlight > this.max >> 1) return;
    }
  }

  /** A closed connection leaves the line (its publishes still settle). */
  leave(reader: GatedReader): void {
    this.#waiting.delete(reader);
  }
}
