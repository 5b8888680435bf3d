import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { DeviceRegistry } from '../registry/devices.js';
import { authenticateToken, bearerToken, helloToken, type Authenticated } from './authenticate.js';
import { closeSocket } from './close-socket.js';
import { isJwtShaped, type JwtOutcome, type VerifyJwt } from './verify-jwt.js';

export interface HandshakeOptions {
  registry: DeviceRegistry;
  /** Checks device JWTs; undefined when auth.jwt is off, and then every credential is a per-device token. */
  verifyJwt: VerifyJwt | undefined;
  timeoutMs: number;
  log: Logger;
}

/** A frame the device sent while its JWT was being verified. */
export interface HeldFrame {
  raw: Buffer;
  isBinary: boolean;
}

export interface Handshaken {
  identity: Authenticated;
  /** Frames that arrived before admission, in order: admission handles them first. */
  held: readonly HeldFrame[];
}

/**
 * Authenticates a new socket by its upgrade header or, for browsers that cannot
 * set headers, by a first `hello` frame within auth.timeoutMs. The credential is a
 * per-device token, or a JWT when auth.jwt is set (told apart by shape). Calls
 * `admit` with the identity; a failure closes the socket (4401 or 4408).
 */
export function handshake(ws: WebSocket, req: IncomingMessage, remote: string, options: HandshakeOptions, admit: (done: Handshaken) => void): void {
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

function finish(ws: WebSocket, remote: string, token: string | undefined, options: HandshakeOptions, admit: (done: Handshaken) => void): void {
  // The timer may have fired while this frame was in the same read.
  if (ws.readyState !== ws.OPEN) return;
  if (token && options.verifyJwt && isJwtShaped(token)) {
    finishJwt(ws, remote, token, options.verifyJwt, options.log, admit).catch((err: Error) => {
      options.log.error('JWT handshake failed', { code: 'internal_error', remote, error: err.stack });
      closeSocket(ws, 'internal_error');
    });
    return;
  }
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
    admit({ identity: result.value, held: [] });
  } catch (err) {
    options.log.error('device admission failed', { code: 'internal_error', device, remote, error: (err as Error).stack });
    closeSocket(ws, 'internal_error');
  }
}

async function finishJwt(ws: WebSocket, remote: string, token: string, verifyJwt: VerifyJwt, log: Logger, admit: (done: Handshaken) => void): Promise<void> {
  const release = holdFrames(ws);
  let outcome: JwtOutcome;
  try {
    outcome = await verifyJwt(token);
  } finally {
    release.stop();
  }
  // The device may have gone, or the gateway begun to stop, while the JWKS loaded.
  if (ws.readyState !== ws.OPEN) return;
  if (!outcome.ok) {
    // The reason (and the claim's name, the device once the signature held), never the token.
    const { ok: _refused, ...why } = outcome;
    log.info('device refused', { code: 'unauthorized', remote, ...why });
    return closeSocket(ws, 'unauthorized');
  }
  admit({ identity: outcome.value, held: release.held });
}

/**
 * Verifying a JWT can wait for a JWKS load, and a device need not wait for `welcome`
 * before it sends: the frames that arrive meanwhile are kept in order for admission
 * instead of being lost. The socket is paused meanwhile, so they are at most what it
 * had already read (one read chunk); the rest waits in the kernel, where TCP pushes back.
 */
function holdFrames(ws: WebSocket): { held: HeldFrame[]; stop(): void } {
  const held: HeldFrame[] = [];
  const hold = (raw: Buffer, isBinary: boolean) => held.push({ raw, isBinary });
  ws.on('message', hold);
  ws.pause();
  return {
    held,
    stop() {
      ws.off('message', hold);
      // Reading resumes on a later turn of the event loop, after admission has added
      // its own listener in this one, so no frame falls between the two.
      ws.resume();
    },
  };
}
