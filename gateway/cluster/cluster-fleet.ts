import type { Redis } from 'ioredis';
import type { SessionPolicy } from '../device/sessions.js';
import type { DeviceSessions } from '../device/sessions.js';
import type { FleetView } from '../device/local-fleet.js';
import type { Presence } from '../device/presence.js';
import type { Logger } from '../log.js';
import { ClusterPresence } from './cluster-presence.js';
import { startNodeLiveness } from './node-liveness.js';
import { ClusterSignals } from './signals.js';

export interface ClusterFleetOptions {
  redis: Redis;
  /** A connection of its own for pub/sub. */
  subscriber: Redis;
  nodeId: string;
  policy: SessionPolicy;
  sessions: DeviceSessions;
  publishPresence(device: string, presence: Presence): void;
  /** Runs this node's delivery of the device's queued commands (it checks the route). */
  deliverPending(device: string): void;
  log: Logger;
}

/**
 * The fleet across gateway nodes: presence is the total over every node (Redis), the
 * node of a device's newest connection delivers its commands, `takeover` closes older
 * connections wherever they are, and a node that dies has its devices corrected by a
 * survivor within NODE_TTL_MS plus a reap period.
 */
export async function startClusterFleet(options: ClusterFleetOptions): Promise<FleetView> {
  const { redis, nodeId, sessions, log } = options;
  const presence = new ClusterPresence(
    redis,
    nodeId,
    (device, outcome) => {
      options.publishPresence(device, outcome.presence);
      // The device's newest connection may have moved here or elsewhere: whoever holds it looks for queued commands.
      if (outcome.presence.online) {
        if (outcome.newest === nodeId) options.deliverPending(device);
        else signals.deliver(device);
      }
    },
    log,
  );
  const signals = await ClusterSignals.start(
    redis,
    options.subscriber,
    {
      deliver: (device) => {
        if (sessions.isConnected(device)) options.deliverPending(device);
      },
      takeover: ({ device, node, at }) => {
        if (node === nodeId) return;
        for (const conn of sessions.connectionsOf(device)) {
          if (conn.openedAt <= at) conn.closeWith('replaced');
        }
      },
    },
    log,
  );
  const stopLiveness = await startNodeLiveness(
    redis,
    nodeId,
    {
      onDead: async (node) => void (await presence.reap(node)),
      onRevived: () => {
        for (const device of sessions.devices()) presence.report(device, sessions.connectionsOf(device).length, false);
      },
    },
    log,
  );

  return {
    presenceChanged(device, local, joined) {
      presence.report(device, local.connections, joined !== undefined);
      if (joined && options.policy === 'takeover') signals.takeover({ device, node: nodeId, at: joined.openedAt });
    },
    route: {
      async find(device) {
        const local = sessions.newest(device);
        if (!local) return undefined;
        return (await presence.newestNode(device)) === nodeId ? local : undefined;
      },
      queued: (device) => signals.deliver(device),
    },
    drain: () => presence.drain(),
    async close() {
      await stopLiveness();
      await signals.stop();
    },
  };
}
