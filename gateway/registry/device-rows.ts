/** One provisioned device as stored: the token only as its hash. */
export interface DeviceRow {
  id: string;
  model: string;
  tokenHash: string;
  createdAt: number;
  rotatedAt: number | null;
  revokedAt: number | null;
}

export type DeviceUpdate = Partial<Pick<DeviceRow, 'tokenHash' | 'rotatedAt' | 'revokedAt'>>;

/**
 * Where device rows live: the embedded SQLite store, or Redis when several gateway
 * processes share one fleet. Every change is recorded in the registry's change feed
 * in the same atomic step, so live connections elsewhere learn of it.
 */
export interface DeviceRows {
  /** False when a device with that id exists. */
  insert(row: DeviceRow): Promise<boolean>;
  byId(id: string): Promise<DeviceRow | undefined>;
  byTokenHash(tokenHash: string): Promise<DeviceRow | undefined>;
  /** Every device, ordered by id. */
  all(): Promise<DeviceRow[]>;
  /** False when no such device exists. */
  update(id: string, update: DeviceUpdate): Promise<boolean>;
}
