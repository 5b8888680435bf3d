import type { WebSocket } from 'ws';
import { closeCodeOf, type ErrorCode } from '../errors.js';

/** How long a peer has to answer our close frame before its socket is cut. */
export const CLOSE_HANDSHAKE_MS = 2000;

/**
 * Closes with the error's close code from ERRORS (its code as the reason). ws would
 * wait 30 s for the peer's close frame; a peer that does not read never sends one.
 */
export function closeSocket(ws: WebSocket, code: ErrorCode): void {
  if (ws.readyState !== ws.OPEN && ws.readyState !== ws.CONNECTING) return;
  ws.close(closeCodeOf(code) ?? 1011, code);
  const timer = setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_MS);
  timer.unref();
  ws.once('close', () => clearTimeout(timer));
}
