import { fail, type GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Topics } from '../topics.js';
import { applyPatch, deltaOf } from './merge.js';
import type { JsonObject, StoredTwin, TwinStore } from './twin-store.js';
import { checkDesired, parseDesiredPatch, type DesiredValidators } from './validate-desired.js';

/** Where a desired frame can be written: one live device connection. */
export interface DesiredSink {
  readonly device: string;
  /** False when the socket was closing and nothing was written. */
  send(frame: object): boolean;
  closeWith(code: 'internal_error'): void;
}

export interface TwinContext {
  store: TwinStore;
  /** The model of a provisioned device, undefined for an unknown id. */
  modelOf(device: string): Promise<string | undefined>;
  validators: DesiredValidators;
  topics: Topics;
  /** Publishes a gateway event in order with the device's other events (presence, command status). */
  publish(device: string, topic: string, payload: unknown, retain: boolean): void;
  connectionsOf(device: string): readonly DesiredSink[];
  /** After an accepted change: tells another process holding the device's newest connection (a cluster node). */
  elsewhere(device: string): void;
  log: Logger;
}

/**
 * Desired state from backends, reported state from devices, and the twin that
 * joins them. Every change of one device runs after the previous one finished,
 * so a version is read, checked and written without another change in between.
 * Nothing is announced (status, twin, device frame) before the store committed it.
 */
export class DeviceTwins {
  readonly #chains = new Map<string, Promise<unknown>>();
  /** The desired version each connection was last sent, so none gets an older or the same one twice. */
  readonly #sent = new WeakMap<DesiredSink, number>();

  constructor(private readonly ctx: TwinContext) {}

  /** A backend's publish on {root}/{device}/desired/set; resolves once the outcome is decided and stored. */
  onDesiredSet(device: string, payload: Buffer): Promise<void> {
    return this.#serial(device, async () => {
      let version = 0;
      try {
        const model = await this.ctx.modelOf(device);
        if (model === undefined) return this.#reject(device, fail('unknown_device').error, version);
        const current = await this.ctx.store.get(device);
        version = current.version;
        const patch = parseDesiredPatch(this.ctx.validators, payload);
        if (!patch.ok) return this.#reject(device, patch.error, version);
        if (patch.value.version !== undefined && patch.value.version !== version) {
          const errors = [{ path: '/version', message: `is ${patch.value.version}, but the twin is at version ${version}` }];
          return this.#reject(device, fail('version_conflict', errors).error, version);
        }
        const desired = applyPatch(current.desired, patch.value.state);
        const invalid = checkDesired(this.ctx.validators, model, desired);
        if (invalid) return this.#reject(device, fail('invalid_desired', invalid).error, version);
        const written = await this.ctx.store.writeDesired(device, desired, version, Date.now());
        // Another gateway process sharing the store changed this twin in between.
        if (!written) {
          const raced = [{ path: '/version', message: 'the twin changed while this change was applied' }];
          return this.#reject(device, fail('version_conflict', raced).error, (await this.ctx.store.get(device)).version);
        }
        this.ctx.log.info('desired state accepted', { device, version: written.version });
        this.ctx.publish(device, this.ctx.topics.desiredStatus(device), { status: 'accepted', version: written.version }, false);
        this.#announce(written);
        for (const conn of this.ctx.connectionsOf(device)) this.#sendDesired(conn, written);
        this.ctx.elsewhere(device);
      } catch (err) {
        this.ctx.log.error('desired state not stored; change rejected', { code: 'store_unavailable', device, error: (err as Error).message });
        this.#reject(device, fail('store_unavailable').error, version);
      }
    });
  }

  /** A device's accepted state frame: merged into the reported side. Rejects when the store failed. */
  onReported(device: string, state: JsonObject): Promise<void> {
    return this.#serial(device, async () => {
      try {
        const current = await this.ctx.store.get(device);
        if (Object.keys(deltaOf(state, current.reported)).length === 0) return;
        this.#announce(await this.ctx.store.mergeReported(device, state, Date.now()));
      } catch (err) {
        this.ctx.log.error('reported state not stored', { code: 'store_unavailable', device, error: (err as Error).message });
        throw err;
      }
    });
  }

  /** After a connection's welcome: the latest desired state, if a backend ever set one. */
  welcome(conn: DesiredSink): void {
    void this.#serial(conn.device, () => this.#sendLatest(conn.device, [conn]));
  }

  /** Another node accepted a change (cluster signal): this node's connections of the device get it. */
  refresh(device: string): void {
    const connections = this.ctx.connectionsOf(device);
    if (connections.length > 0) void this.#serial(device, () => this.#sendLatest(device, connections));
  }

  async #sendLatest(device: string, connections: readonly DesiredSink[]): Promise<void> {
    try {
      const twin = await this.ctx.store.get(device);
      if (twin.version > 0) for (const conn of connections) this.#sendDesired(conn, twin);
    } catch (err) {
      // The device would never learn its desired state on these connections; it reconnects and tries again.
      this.ctx.log.error('desired state not readable; closing', { code: 'store_unavailable', device, error: (err as Error).message });
      for (const conn of connections) conn.closeWith('internal_error');
    }
  }

  #sendDesired(conn: DesiredSink, twin: StoredTwin): void {
    if ((this.#sent.get(conn) ?? 0) >= twin.version) return;
    if (conn.send({ type: 'desired', version: twin.version, state: twin.desired, delta: deltaOf(twin.desired, twin.reported) })) {
      this.#sent.set(conn, twin.version);
    }
  }

  #announce(twin: StoredTwin): void {
    const { device, version, desired, reported, updatedAt } = twin;
    const payload = { device, version, desired, reported, delta: deltaOf(desired, reported), updatedAt };
    this.ctx.publish(device, this.ctx.topics.twin(device), payload, true);
  }

  #reject(device: string, error: GatewayError, version: number): void {
    this.ctx.log.info('desired state rejected', { code: error.code, device, version });
    const { code, message, errors = [] } = error;
    this.ctx.publish(device, this.ctx.topics.desiredStatus(device), { status: 'rejected', code, message, errors, version }, false);
  }

  #serial(device: string, job: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(device) ?? Promise.resolve();
    const next = previous.then(job);
    // The chain only orders jobs; each job's failure is handled by whoever awaits `next`.
    const tail = next.catch(() => undefined);
    this.#chains.set(device, tail);
    void tail.then(() => {
      if (this.#chains.get(device) === tail) this.#chains.delete(device);
    });
    return next;
  }
}
