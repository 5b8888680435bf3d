import type { Aedes } from 'aedes';
import { publishJson } from '../broker/publish.js';
import type { GatewayError } from '../errors.js';
import type { Topics } from '../topics.js';
import { redactSecrets } from './redact-secrets.js';

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
  // latin1 maps bytes one to one, so a binary frame is redacted byte for byte too.
  const encoding = isBinary ? 'latin1' : 'utf8';
  const cut = Buffer.from(redactSecrets(raw.toString(encoding)), encoding).subarray(0, MAX_FRAME_BYTES);
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
