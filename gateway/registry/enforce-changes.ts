import type { DeviceSessions } from '../device/sessions.js';
import type { Logger } from '../log.js';
import type { RegistryChange } from './changes.js';
import type { DeviceRegistry } from './devices.js';
import type { UserRegistry } from './users.js';

export interface EnforceOptions {
  registry: DeviceRegistry;
  users: UserRegistry;
  sessions: DeviceSessions;
  /** Cuts every live MQTT session of a user. */
  disconnectUser(name: string): void;
  log: Logger;
}

/**
 * What a registry change means for live connections: a device whose token was
 * revoked or rotated loses the sockets that token opened; a removed user loses
 * its MQTT sessions.
 */
export function enforceRegistryChange(change: RegistryChange, options: EnforceOptions): void {
  if (change.kind === 'user') {
    options.users.forgetLogins(change.subject);
    if (!options.users.exists(change.subject)) options.disconnectUser(change.subject);
    return;
  }
  for (const conn of options.sessions.connectionsOf(change.subject)) {
    if (!options.registry.stillValid(change.subject, conn.identity.tokenHash)) {
      options.log.info('device token revoked or rotated; closing', { code: 'unauthorized', device: change.subject });
      conn.closeWith('unauthorized');
    }
  }
}
