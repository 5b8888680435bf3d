import type { IncomingMessage } from 'node:http';
import { fail, ok, type Result } from '../errors.js';
import type { DeviceIdentity, DeviceRegistry } from '../registry/devices.js';
import { hashToken } from '../registry/tokens.js';

/** Who a socket authenticated as, and with what: a later registry change or expiry is judged by it. */
export type Authenticated = DeviceIdentity &
  (
    | {
        method: 'token';
        /** Kept so a later rotate or revoke can tell whether this socket's token still holds. */
        tokenHash: string;
      }
    | {
        method: 'jwt';
        /** Epoch ms at which the JWT stops verifying (exp plus the clock tolerance): the socket is closed then. */
        expiresAt: number;
      }
  );

/** The token from `Authorization: Bearer TOKEN`, if the upgrade carried one. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  // A malformed header is a failed attempt, not an absent one: it must not fall back to hello.
  return match ? match[1] : '';
}

/** The token of a browser's first frame `{"type":"hello","token":"..."}`, if that is what it is. */
export function helloToken(raw: Buffer, isBinary: boolean): string | undefined {
  if (isBinary) return undefined;
  try {
    const frame = JSON.parse(raw.toString('utf8')) as { type?: unknown; token?: unknown } | null;
    return frame?.type === 'hello' && typeof frame.token === 'string' ? frame.token : undefined;
  } catch {
    return undefined;
  }
}

export async function authenticateToken(registry: DeviceRegistry, token: string | undefined): Promise<Result<Authenticated>> {
  if (!token) return fail('unauthorized');
  const identity = await registry.authenticate(token);
  return identity ? ok({ ...identity, method: 'token', tokenHash: hashToken(token) }) : fail('unauthorized');
}
