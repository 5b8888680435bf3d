import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { Logger } from '../log.js';
import type { Tally } from '../metrics/tally.js';
import type { DeviceRegistry } from '../registry/devices.js';
import { authenticateToken, bearerToken, helloToken, type Authenticated } from './authenticate.js';
import { closeSocket } from './close-socket.js';
import { isJwtShaped, type JwtOutcome, type VerifyJwt } from './verify-jwt.js';

export interface HandshakeOptions {
  registry: DeviceRegistry;
  /** Checks device JWTs; undefined when auth.jwt is off, and then every credential is a per-device token. */
  verifyJwt: VerifyJwt | undefined;
  timeoutMs: number;
  tally: Tally;
  log: Logger;
}

/** A frame the device sent while its credential was being checked. */
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
    options.tally.deviceAuth.auth_timeout++;
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
  const release = holdFrames(ws);
  // Runs inside a socket event: a rejection (the store failing under the registry, or
  // admission throwing) fails this connection instead of the process.
  identify(token, options)
    .then((outcome) => {
      release.stop();
      // The device may have gone, or the gateway begun to stop, while the check ran.
      if (ws.readyState !== ws.OPEN) return;
      if (!outcome.ok) {
        // The reason (and the claim's name, the device once a JWT's signature held), never the token.
        const { ok: _refused, ...why } = outcome;
        options.tally.deviceAuth.unauthorized++;
        options.log.info('device refused', { code: 'unauthorized', remote, ...why });
        return closeSocket(ws, 'unauthorized');
      }
      options.tally.deviceAuth.ok++;
      admit({ identity: outcome.value, held: release.held });
    })
    .catch((err: Error) => {
      release.stop();
      options.log.error('device admission failed', { code: 'internal_error', remote, error: err.stack });
      closeSocket(ws, 'internal_error');
    });
}

// A refused per-device token has no reason worth logging: unknown and revoked look alike.
type CredentialOutcome = JwtOutcome | { ok: false };

async function identify(token: string | undefined, options: HandshakeOptions): Promise<CredentialOutcome> {
  if (token && options.verifyJwt && isJwtShaped(token)) return options.verifyJwt(token);
  const result = await authenticateToken(options.registry, token);
  return result.ok ? { ok: true, value: result.value } : { ok: false };
}

/**
 * Checking a credential waits for the store or a JWKS load, and a device need not wait for `welcome`
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
