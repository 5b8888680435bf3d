/** One backend MQTT user as stored: the password only as its scrypt hash. */
export interface UserRow {
  name: string;
  passwordHash: string;
  allowPub: string[];
  allowSub: string[];
  createdAt: number;
}

/**
 * Where backend users live: the embedded SQLite store, or Redis for a cluster. A
 * removal is recorded in the registry's change feed in the same atomic step.
 */
export interface UserRows {
  /** False when a user with that name exists. */
  insert(row: UserRow): Promise<boolean>;
  byName(name: string): Promise<UserRow | undefined>;
  /** Every user, ordered by name. */
  all(): Promise<UserRow[]>;
  /** False when no such user exists. */
  delete(name: string): Promise<boolean>;
}
