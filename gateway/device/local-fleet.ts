import type { DeviceRoute } from '../command/route.js';
import type { DeviceConnection } from './connection.js';
import type { Presence } from './presence.js';
import type { DeviceSessions } from './sessions.js';

/**
 * How the fleet looks from one process, as seen by the gateway's wiring: with one
 * gateway process (local-fleet.ts) this process' presence is the device's presence
 * and its newest connection is where commands go; in a cluster (cluster/cluster-fleet.ts)
 * both are settled across nodes in Redis.
 */
export interface FleetView {
  /** DeviceSessions' report after each change of this process' connections of a device. */
  presenceChanged(device: string, local: Presence, joined?: DeviceConnection): void;
  route: DeviceRoute;
  /** Resolves once every presence change reported so far is published (shutdown). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** The fleet of one gateway process: presence is published as DeviceSessions reports it. */
export function localFleet(sessions: DeviceSessions, publishPresence: (device: string, presence: Presence) => void): FleetView {
  return {
    presenceChanged: publishPresence,
    route: {
      find: async (device) => sessions.newest(device),
      queued: () => undefined, // the delivery that queued it is this process'
    },
    drain: async () => undefined,
    close: async () => undefined,
  };
}
