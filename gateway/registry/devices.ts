import type { Statement } from 'better-sqlite3';
import { fail, ok, type Result } from '../errors.js';
import type { Store } from '../store/open-store.js';
import { isValidDeviceId } from '../topics.js';
import { recordChange } from './changes.js';
import { hashToken, newToken, sameTokenHash } from './tokens.js';

export interface DeviceIdentity {
  device: string;
  model: string;
}

export interface DeviceRecord extends DeviceIdentity {
  createdAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

/** What provisioning hands out once: the plain token is never stored. */
export interface IssuedToken extends DeviceIdentity {
  token: string;
}

interface DeviceRow {
  id: string;
  model: string;
  token_hash: string;
  created_at: number;
  rotated_at: number | null;
  revoked_at: number | null;
}

/** Device provisioning and token checks over the shared store. */
export class DeviceRegistry {
  readonly #store: Store;
  readonly #byTokenHash: Statement<[string], DeviceRow>;
  readonly #byId: Statement<[string], DeviceRow>;

  constructor(store: Store, private readonly models: readonly string[]) {
    this.#store = store;
    this.#byTokenHash = store.prepare('SELECT * FROM devices WHERE token_hash = ?');
    this.#byId = store.prepare('SELECT * FROM devices WHERE id = ?');
  }

  add(device: string, model: string): Result<IssuedToken> {
    if (!isValidDeviceId(device)) return fail('invalid_device_id');
    if (!this.models.includes(model)) return fail('unknown_model');
    if (this.#byId.get(device)) return fail('device_exists');
    const token = newToken();
    this.#store
      .prepare('INSERT INTO devices (id, model, token_hash, created_at) VALUES (?, ?, ?, ?)')
      .run(device, model, hashToken(token), Date.now());
    return ok({ device, model, token });
  }

  list(): DeviceRecord[] {
    return this.#store.prepare<[], DeviceRow>('SELECT * FROM devices ORDER BY id').all().map(toRecord);
  }

  get(device: string): DeviceRecord | undefined {
    const row = this.#byId.get(device);
    return row && toRecord(row);
  }

  /** Disables the device; live sockets are closed by the gateway watching registry changes. */
  revoke(device: string): Result<DeviceRecord> {
    const now = Date.now();
    const changed = this.#store.transaction(() => {
      const result = this.#store.prepare('UPDATE devices SET revoked_at = ? WHERE id = ?').run(now, device);
      if (result.changes === 1) recordChange(this.#store, 'device', device);
      return result.changes === 1;
    })();
    return changed ? ok(this.get(device)!) : fail('unknown_device');
  }

  /** Issues a new token (the old one stops working at once) and re-enables a revoked device. */
  rotate(device: string): Result<IssuedToken> {
    const token = newToken();
    const changed = this.#store.transaction(() => {
      const result = this.#store
        .prepare('UPDATE devices SET token_hash = ?, rotated_at = ?, revoked_at = NULL WHERE id = ?')
        .run(hashToken(token), Date.now(), device);
      if (result.changes === 1) recordChange(this.#store, 'device', device);
      return result.changes === 1;
    })();
    if (!changed) return fail('unknown_device');
    return ok({ device, model: this.#byId.get(device)!.model, token });
  }

  /** The live identity behind a token, or undefined for unknown and revoked tokens. */
  authenticate(token: string): DeviceIdentity | undefined {
    const hash = hashToken(token);
    const row = this.#byTokenHash.get(hash);
    if (!row || row.revoked_at !== null || !sameTokenHash(row.token_hash, hash)) return undefined;
    return { device: row.id, model: row.model };
  }

  /** Whether a connection authenticated with tokenHash may stay open. */
  stillValid(device: string, tokenHash: string): boolean {
    const row = this.#byId.get(device);
    return row !== undefined && row.revoked_at === null && sameTokenHash(row.token_hash, tokenHash);
  }
}

function toRecord(row: DeviceRow): DeviceRecord {
  return {
    device: row.id,
    model: row.model,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
    revokedAt: row.revoked_at,
  };
}
