import type { DeviceConnection } from './connection.js';
import type { Presence } from './presence.js';

export type SessionPolicy = 'takeover' | 'multi';

interface DeviceSession {
  connections: Set<DeviceConnection>;
  since: number;
}

/**
 * Live, authenticated connections per device under the configured policy, and
 * the presence each change implies. Presence goes out through `onPresence` in
 * the order the changes happened.
 */
export class DeviceSessions {
  readonly #sessions = new Map<string, DeviceSession>();

  constructor(
    private readonly policy: SessionPolicy,
    /** This process' presence of the device after each change; `joined` is the connection a join added. */
    private readonly onPresence: (device: string, presence: Presence, joined?: DeviceConnection) => void,
  ) {}

  /** Registers a newly authenticated connection; returns the connections it replaces (takeover). */
  add(conn: DeviceConnection): DeviceConnection[] {
    const device = conn.device;
    let session = this.#sessions.get(device);
    if (!session) this.#sessions.set(device, (session = { connections: new Set(), since: Date.now() }));
    const replaced = this.policy === 'takeover' ? [...session.connections] : [];
    for (const old of replaced) session.connections.delete(old);
    session.connections.add(conn);
    this.onPresence(device, { online: true, since: session.since, connections: session.connections.size }, conn);
    return replaced;
  }

  /** Forgets a closed connection; the device goes offline with its last one. */
  remove(conn: DeviceConnection): void {
    const device = conn.device;
    const session = this.#sessions.get(device);
    if (!session || !session.connections.delete(conn)) return;
    if (session.connections.size > 0) {
      this.onPresence(device, { online: true, since: session.since, connections: session.connections.size });
      return;
    }
    this.#sessions.delete(device);
    this.onPresence(device, { online: false, since: Date.now(), connections: 0 });
  }

  connectionsOf(device: string): DeviceConnection[] {
    return [...(this.#sessions.get(device)?.connections ?? [])];
  }

  /** The connection a message to the device should go to: the newest live one. */
  newest(device: string): DeviceConnection | undefined {
    const connections = this.connectionsOf(device);
    return connections[connections.length - 1];
  }

  isConnected(device: string): boolean {
    return this.#sessions.has(device);
  }

  /** Every live authenticated connection. */
  *connections(): IterableIterator<DeviceConnection> {
    for (const session of this.#sessions.values()) yield* session.connections;
  }

  /** Devices with at least one live connection. */
  get deviceCount(): number {
    return this.#sessions.size;
  }

  devices(): string[] {
    return [...this.#sessions.keys()];
  }

  get connectionCount(): number {
    let count = 0;
    for (const session of this.#sessions.values()) count += session.connections.size;
    return count;
  }
}
