import { fail, type GatewayError, type PathError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CommandQueue, CommandStatus, QueuedCommand } from './queue.js';
import type { DeviceRoute } from './route.js';
import type { CommandResult } from './validate-command.js';

export interface DeliveryOptions {
  resultTimeoutMs: number;
  maxQueuePerDevice: number;
  /** Finished commands are remembered this long, so a republished id is not run twice. */
  dedupWindowMs: number;
  startupReportDelayMs: number;
}

export interface StatusEvent {
  id: string;
  device: string;
  status: CommandStatus;
  at: number;
  result?: Record<string, unknown>;
  error?: { code: string; message?: string; errors?: PathError[] };
}

const SWEEP_MS = 250;

/**
 * Takes checked commands into the durable queue, writes them to the device's
 * newest connection in FIFO order, matches results, and reports each step.
 */
export class CommandDelivery {
  #sweeper: NodeJS.Timeout | undefined;
  #firstSweep: NodeJS.Timeout | undefined;
  #sweeping = false;
  // Devices whose delivery runs now, and whether another run was asked for meanwhile: one
  // run per device at a time, so a command is not written twice by overlapping runs.
  readonly #delivering = new Map<string, boolean>();

  constructor(
    private readonly queue: CommandQueue,
    private readonly route: DeviceRoute,
    /** Publishes a status event; resolves once it is published. */
    private readonly report: (event: StatusEvent) => Promise<void>,
    private readonly options: DeliveryOptions,
    private readonly log: Logger,
  ) {}

  /**
   * A valid command: queue it (durably, before anything is reported), then deliver if the
   * device is online. Resolves once it is queued (or refused); a store failure rejects.
   */
  async submit(command: QueuedCommand): Promise<void> {
    const outcome = await this.queue.enqueue(command, this.options.maxQueuePerDevice);
    if (outcome === 'duplicate') {
      this.log.info('duplicate command ignored', { device: command.device, command: command.id });
      return;
    }
    if (outcome === 'queue_full') {
      this.reject(command.device, command.id, fail('queue_full').error);
      return;
    }
    const accepted = this.#report(command, 'accepted');
    // Another node's `delivered` must not overtake this `accepted`: it is nudged once that is out.
    void accepted.then(() => this.route.queued(command.device));
    this.deliverPending(command.device);
  }

  reject(device: string, id: string, error: GatewayError): void {
    this.log.info('command rejected', { code: error.code, device, command: id });
    void this.report({ id, device, status: 'rejected', at: Date.now(), error });
  }

  /**
   * Writes every queued command of the device to its newest connection, oldest first.
   * A command counts as delivered only once written to an open socket; one the socket
   * refused (it was closing) stays queued for the device's next connection.
   */
  deliverPending(device: string): void {
    if (this.#delivering.has(device)) {
      this.#delivering.set(device, true);
      return;
    }
    this.#delivering.set(device, false);
    void this.#deliverRuns(device);
  }

  async #deliverRuns(device: string): Promise<void> {
    try {
      do {
        this.#delivering.set(device, false);
        await this.#deliverOnce(device);
      } while (this.#delivering.get(device));
    } catch (err) {
      // The commands stay queued: the device's next connection or the next command retries.
      this.log.error('command delivery failed', { code: 'internal_error', device, error: (err as Error).message });
    } finally {
      this.#delivering.delete(device);
    }
  }

  async #deliverOnce(device: string): Promise<void> {
    const sink = await this.route.find(device);
    if (!sink) return;
    const now = Date.now();
    for (const command of await this.queue.pending(device, now)) {
      if (!sink.send({ type: 'command', id: command.id, name: command.name, params: command.params, expiresAt: command.expiresAt })) return;
      if (await this.queue.markDelivered(device, command.id, now)) void this.#report(command, 'delivered');
    }
  }

  /** A device's command_result; false when no delivered command with that id awaits one. */
  async onResult(device: string, result: CommandResult): Promise<boolean> {
    const status = result.ok ? 'succeeded' : 'failed';
    if (!(await this.queue.finish(device, result.id, status, Date.now()))) return false;
    const event: StatusEvent = { id: result.id, device, status, at: Date.now() };
    if (result.ok) event.result = result.result ?? {};
    else event.error = result.error!;
    void this.report(event);
    return true;
  }

  /**
   * Starts the sweeper that reports expired and timed-out commands. Its first
   * run waits startupReportDelayMs: status events are not retained, and
   * commands that lapsed while the gateway was down should be reported once
   * backends have had time to reconnect. Lapsed commands are never delivered
   * meanwhile (pending() skips them).
   */
  start(): void {
    this.#firstSweep = setTimeout(() => {
      void this.#sweep();
      this.#sweeper = setInterval(() => void this.#sweep(), SWEEP_MS);
      this.#sweeper.unref();
    }, this.options.startupReportDelayMs);
    this.#firstSweep.unref();
  }

  stop(): void {
    clearTimeout(this.#firstSweep);
    clearInterval(this.#sweeper);
  }

  // A store error in a timer must not end the process; the next sweep tries again.
  async #sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const now = Date.now();
      for (const command of await this.queue.takeExpired(now)) void this.#report(command, 'expired');
      for (const command of await this.queue.takeTimedOut(now - this.options.resultTimeoutMs, now)) void this.#report(command, 'timed_out');
      await this.queue.prune(now - this.options.dedupWindowMs);
    } catch (err) {
      this.log.error('command sweep failed', { code: 'internal_error', error: (err as Error).message });
    } finally {
      this.#sweeping = false;
    }
  }

  #report(command: QueuedCommand, status: CommandStatus): Promise<void> {
    return this.report({ id: command.id, device: command.device, status, at: Date.now() });
  }
}
