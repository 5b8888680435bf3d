import type { Aedes } from 'aedes';
import { publishJson } from '../broker/publish.js';
import type { GatewayError } from '../errors.js';
import type { Topics } from '../topics.js';

const MAX_FRAME_BYTES = 4096;

/** Records a refused frame on gateway/deadletter/{id}, so nothing a device sent vanishes unseen. */
export function publishDeadLetter(
  aedes: Aedes,
  topics: Topics,
  device: string,
  error: GatewayError,
  raw: Buffer,
  isBinary: boolean,
): Promise<void> {
  const cut = raw.subarray(0, MAX_FRAME_BYTES);
  return publishJson(aedes, topics.deadLetter(device), {
    device,
    receivedAt: Date.now(),
    code: error.code,
    errors: error.errors ?? [],
    // Binary frames are not text: carried as base64 and marked so.
    frame: cut.toString(isBinary ? 'base64' : 'utf8'),
    ...(isBinary ? { frameEncoding: 'base64' } : {}),
    ...(raw.length > MAX_FRAME_BYTES ? { frameBytes: raw.length } : {}),
  });
}
