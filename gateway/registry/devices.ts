import { fail, ok, type Result } from '../errors.js';
import { isValidDeviceId } from '../topics.js';
import type { DeviceRow, DeviceRows } from './device-rows.js';
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

/** Device provisioning and token checks over the shared device rows (SQLite or Redis). */
export class DeviceRegistry {
  constructor(
    private readonly rows: DeviceRows,
    private readonly models: readonly string[],
  ) {}

  /** `token` lets a caller save the token before the device exists (device-sim provision). */
  async add(device: string, model: string, token = newToken()): Promise<Result<IssuedToken>> {
    if (!isValidDeviceId(device)) return fail('invalid_device_id');
    if (!this.models.includes(model)) return fail('unknown_model');
    const row = { id: device, model, tokenHash: hashToken(token), createdAt: Date.now(), rotatedAt: null, revokedAt: null };
    return (await this.rows.insert(row)) ? ok({ device, model, token }) : fail('device_exists');
  }

  async list(): Promise<DeviceRecord[]> {
    return (await this.rows.all()).map(toRecord);
  }

  async get(device: string): Promise<DeviceRecord | undefined> {
    const row = await this.rows.byId(device);
    return row && toRecord(row);
  }

  /** Disables the device; live sockets are closed by the gateway watching registry changes. */
  async revoke(device: string): Promise<Result<DeviceRecord>> {
    if (!(await this.rows.update(device, { revokedAt: Date.now() }))) return fail('unknown_device');
    const record = await this.get(device);
    return record ? ok(record) : fail('unknown_device');
  }

  /** Issues a new token (the old one stops working at once) and re-enables a revoked device. */
  async rotate(device: string): Promise<Result<IssuedToken>> {
    const token = newToken();
    if (!(await this.rows.update(device, { tokenHash: hashToken(token), rotatedAt: Date.now(), revokedAt: null }))) {
      return fail('unknown_device');
    }
    const row = await this.rows.byId(device);
    return row ? ok({ device, model: row.model, token }) : fail('unknown_device');
  }

  /** The live identity behind a token, or undefined for unknown and revoked tokens. */
  async authenticate(token: string): Promise<DeviceIdentity | undefined> {
    const hash = hashToken(token);
    const row = await this.rows.byTokenHash(hash);
    if (!row || row.revokedAt !== null || !sameTokenHash(row.tokenHash, hash)) return undefined;
    return { device: row.id, model: row.model };
  }

  /** Whether a connection authenticated with tokenHash may stay open. */
  async stillValid(device: string, tokenHash: string): Promise<boolean> {
    const row = await this.rows.byId(device);
    return row !== undefined && row.revokedAt === null && sameTokenHash(row.tokenHash, tokenHash);
  }
}

function toRecord(row: DeviceRow): DeviceRecord {
  return { device: row.id, model: row.model, createdAt: row.createdAt, rotatedAt: row.rotatedAt, revokedAt: row.revokedAt };
}
