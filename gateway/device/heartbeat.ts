import type { DeviceConnection } from './connection.js';

/**
 * One timer for all sockets: each tick pings every socket, and a socket that
 * has not answered the two previous pings is terminated (a dead peer never
 * sends a close frame, so only this frees it).
 */
export function startHeartbeat(connections: Iterable<DeviceConnection>, intervalMs: number): () => void {
  const timer = setInterval(() => {
    for (const conn of connections) {
      if (conn.missedPongs >= 2) {
        conn.ws.terminate();
        continue;
      }
      conn.missedPongs++;
      conn.ws.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
