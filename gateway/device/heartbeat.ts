import type { Counters } from '../counters.js';
import type { Logger } from '../log.js';
import type { DeviceConnection } from './connection.js';

/**
 * One timer for all sockets: each tick pings every socket; a socket that has not
 * answered the two previous pings is terminated (a dead peer never sends a close
 * frame, so only this frees it), and one that has left more than
 * limits.maxBufferedBytes unread for a whole interval is closed (slow_consumer).
 * `afterTick` runs housekeeping that shares the interval.
 */
export function startHeartbeat(
  connections: () => Iterable<DeviceConnection>,
  intervalMs: number,
  { log, counters, afterTick }: { log: Logger; counters: Counters; afterTick: () => void },
): () => void {
  const timer = setInterval(() => {
    try {
      const now = Date.now();
      for (const conn of connections()) {
        if (!conn.isOpen) continue; // already closing: its close handshake has its own deadline
        // Before the pong check: a device that does not read answers no ping either, and this says why.
        if (conn.outputStalledMs(now) >= intervalMs) {
          log.warn('device does not read its socket; closing', { code: 'slow_consumer', device: conn.device, bufferedBytes: conn.ws.bufferedAmount });
          counters.count('slow_consumer');
          conn.closeWith('slow_consumer');
          continue;
        }
        if (conn.missedPongs >= 2) {
          conn.ws.terminate();
          continue;
        }
        conn.missedPongs++;
        conn.ws.ping();
      }
      afterTick();
    } catch (err) {
      log.error('heartbeat failed', { code: 'internal_error', error: (err as Error).stack });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
