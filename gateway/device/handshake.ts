import type { IncomingMessage } from 'node:http';
import type { Logger } from '../log.js';
import type { DeviceRegistry } from '../registry/devices.js';
import { authenticateToken, bearerToken, helloToken } from './authenticate.js';
import type { DeviceConnection } from './connection.js';

export interface HandshakeOptions {
  registry: DeviceRegistry;
  timeoutMs: number;
  log: Logger;
}

/**
 * Authenticates a new socket by its upgrade header or, for browsers that cannot
 * set headers, by a first `hello` frame within auth.timeoutMs. Calls `admit`
 * once conn.identity is set; a failure closes the socket (4401 or 4408).
 */
export function handshake(conn: DeviceConnection, req: IncomingMessage, options: HandshakeOptions, admit: () => void): void {
  const header = bearerToken(req);
  if (header !== undefined) return finish(conn, header, options, admit);

  const timer = setTimeout(() => {
    options.log.info('device refused', { code: 'auth_timeout', remote: conn.remote });
    conn.closeWith('auth_timeout');
  }, options.timeoutMs);
  conn.ws.once('close', () => clearTimeout(timer));
  conn.ws.once('message', (raw: Buffer, isBinary: boolean) => {
    clearTimeout(timer);
    finish(conn, helloToken(raw, isBinary), options, admit);
  });
}

function finish(conn: DeviceConnection, token: string | undefined, options: HandshakeOptions, admit: () => void): void {
  const result = authenticateToken(options.registry, token);
  if (!result.ok) {
    options.log.info('device refused', { code: 'unauthorized', remote: conn.remote });
    return conn.closeWith('unauthorized');
  }
  conn.identity = result.value;
  admit();
}
