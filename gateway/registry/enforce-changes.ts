import type { Authenticated } from '../device/authenticate.js';
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
 * revoked or rotated loses the sockets that token opened, a revoked device loses
 * its JWT sessions too; a removed user loses its MQTT sessions.
 */
export async function enforceRegistryChange(change: RegistryChange, options: EnforceOptions): Promise<void> {
  if (change.kind === 'user') {
    options.users.forgetLogins(change.subject);
    if (!(await options.users.exists(change.subject))) options.disconnectUser(change.subject);
    return;
  }
  for (const conn of options.sessions.connectionsOf(change.subject)) {
    if (!(await stillHolds(options.registry, conn.identity))) {
      options.log.info('device revoked or its token rotated; closing', { code: 'unauthorized', device: change.subject, method: conn.identity.method });
      conn.closeWith('unauthorized');
    }
  }
}

// A JWT session rests on the issuer's signature, not on the device's token: rotating
// the token leaves it open (the device's JWTs are still good), revoking the device ends it.
async function stillHolds(registry: DeviceRegistry, identity: Authenticated): Promise<boolean> {
  if (identity.method === 'token') return registry.stillValid(identity.device, identity.tokenHash);
  return ((await registry.get(identity.device))?.revokedAt ?? null) === null;
}
