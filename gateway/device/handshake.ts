import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { DeviceRegistry } from '../registry/devices.js';
import { authenticateToken, bearerToken, helloToken, type Authenticated } from './authenticate.js';
import { closeSocket } from './close-socket.js';

export interface HandshakeOptions {
  registry: DeviceRegistry;
  timeoutMs: number;
  log: Logger;
}

/**
 * Authenticates a new socket by its upgrade header or, for browsers that cannot
 * set headers, by a first `hello` frame within auth.timeoutMs. Calls `admit`
 * with the identity; a failure closes the socket (4401 or 4408).
 */
export function handshake(
  ws: WebSocket,
  req: IncomingMessage,
  remote: string,
  options: HandshakeOptions,
  admit: (identity: Authenticated) => void,
): void {
  const header = bearerToken(req);
  if (header !== undefined) return finish(ws, remote, header, options, admit);

  const timer = setTimeout(() => {
    options.log.info('device refused', { code: 'auth_timeout', remote });
    closeSocket(ws, 'auth_timeout');
  }, options.timeoutMs);
  ws.once('close', () => clearTimeout(timer));
  ws.once('message', (raw: Buffer, isBinary: boolean) => {
    clearTimeout(timer);
    finish(ws, remote, helloToken(raw, isBinary), options, admit);
  });
}

function finish(ws: WebSocket, remote: string, token: string | undefined, options: HandshakeOptions, admit: (identity: Authenticated) => void): void {
  // The timer may have fired while this frame was in the same read.
  if (ws.readyState !== ws.OPEN) return;
  // Runs inside a socket event: a throw (the store failing under the registry or the
  // command queue) would end the process, so it fails this connection instead.
  let device: string | undefined;
  try {
    const result = authenticateToken(options.registry, token);
    if (!result.ok) {
      options.log.info('device refused', { code: 'unauthorized', remote });
      return closeSocket(ws, 'unauthorized');
    }
    device = result.value.device;
    admit(result.value);
  } catch (err) {
    options.log.error('device admission failed', { code: 'internal_error', device, remote, error: (err as Error).stack });
    closeSocket(ws, 'internal_error');
  }
}
