import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { DeviceIdentity } from './device.js';
import { fail, ok, type SimResult } from './sim-errors.js';

/** Reads a tokens file: a JSON array of {device, model, token}, as `provision` writes it. */
export function readTokensFile(path: string): SimResult<DeviceIdentity[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not valid JSON';
    return fail('bad_tokens_file', `${path} ${reason}; create it with "device-sim provision --out ${path}"`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isIdentity)) {
    return fail('bad_tokens_file', `${path} must be a JSON array of {"device","model","token"} objects`);
  }
  return ok(parsed);
}

/** Like readTokensFile, but a missing file is an empty list. */
export function readTokensFileIfAny(path: string): SimResult<DeviceIdentity[]> {
  return existsSync(path) ? readTokensFile(path) : ok([]);
}

// Tokens are credentials: the file is created 0600 under a temporary name and
// renamed into place, so it is never readable by others, not even half-written.
export function writeTokensFile(path: string, identities: readonly DeviceIdentity[]): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(identities, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600); // in case the umask or an existing file kept wider bits
  renameSync(temporary, path);
}

function isIdentity(value: unknown): value is DeviceIdentity {
  if (value === null || typeof value !== 'object') return false;
  const { device, model, token } = value as Record<string, unknown>;
  return typeof device === 'string' && typeof model === 'string' && typeof token === 'string';
}
