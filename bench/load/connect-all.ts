import { connectDevice, type DeviceClient, type DeviceEvents } from './device-client.js';
import type { Target } from './task.js';

export interface Connected {
  clients: DeviceClient[];
  /** reason (close code or error) -> count */
  failures: Record<string, number>;
}

/**
 * Connects devices [from, to) with at most `concurrency` handshakes at a time,
 * so set-up load does not spill into the measurement.
 */
export async function connectAll(target: Target, from: number, to: number, events: DeviceEvents, concurrency = 64): Promise<Connected> {
  const clients: DeviceClient[] = [];
  const failures: Record<string, number> = {};
  let next = from;
  async function worker(): Promise<void> {
    while (next < to) {
      const index = next++;
      try {
        clients[index - from] = await connectDevice(target, index, events);
      } catch (err) {
        const reason = (err as { reason?: string }).reason ?? `error:${(err as Error).message}`;
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, to - from) }, worker));
  return { clients: clients.filter(Boolean), failures };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
