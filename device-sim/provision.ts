import { listModelNames, SHIPPED_MODELS_DIR } from '../gateway/models/load-models.js';
import { DeviceRegistry } from '../gateway/registry/devices.js';
import { SqliteDeviceRows } from '../gateway/registry/sqlite-device-rows.js';
import { newToken } from '../gateway/registry/tokens.js';
import { openStore } from '../gateway/store/open-store.js';
import { DEVICE_ID_RULE, isValidDeviceId } from '../gateway/topics.js';
import type { DeviceIdentity } from './device.js';
import { fail, ok, type SimResult } from './sim-errors.js';
import { readTokensFileIfAny, writeTokensFile } from './tokens-file.js';

export interface ProvisionOptions {
  count: number;
  prefix: string;
  model: string;
  dataDir: string;
  /** Tokens file; entries already in it whose token still works are kept, not re-provisioned. */
  out: string;
}

export interface ProvisionReport {
  created: number;
  kept: number;
  /** Everything now in the tokens file. */
  devices: DeviceIdentity[];
}

/** `prefix0001`...: zero-padded so ids sort in creation order. */
export function deviceIds(prefix: string, count: number): string[] {
  const width = Math.max(4, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(width, '0')}`);
}

/**
 * Adds devices through the gateway's own registry (the same SQLite file the
 * gateway reads) and writes their tokens to `out`. Running it again is safe:
 * ids whose token in `out` still authenticates are kept as they are, because
 * the registry stores only token hashes and could not hand them out again.
 */
export async function provisionDevices(options: ProvisionOptions): Promise<SimResult<ProvisionReport>> {
  const previous = readTokensFileIfAny(options.out);
  if (!previous.ok) return previous;
  const store = openStore(options.dataDir);
  try {
    // The same model list the gateway loads by default, so it accepts what we add.
    const models = listModelNames(SHIPPED_MODELS_DIR);
    const registry = new DeviceRegistry(new SqliteDeviceRows(store), models);
    if (!models.includes(options.model)) {
      return fail('provision_failed', `unknown model "${options.model}"; models: ${models.join(', ')}`);
    }
    const byId = new Map(previous.value.map((identity) => [identity.device, identity]));
    // Decide everything before writing anything: a refusal half-way would leave
    // devices in the registry whose tokens were never saved.
    const toAdd: string[] = [];
    for (const id of deviceIds(options.prefix, options.count)) {
      const known = byId.get(id);
      if (known && (await registry.authenticate(known.token))?.device === id) continue;
      if (!isValidDeviceId(id)) return fail('provision_failed', `"${id}" is not a valid id: ${DEVICE_ID_RULE}`);
      if (await registry.get(id)) {
        return fail('device_exists', `${id} is already provisioned and its token is not in ${options.out}; use another --prefix`);
      }
      toAdd.push(id);
    }
    // Tokens are saved before their devices exist: if adding stops half-way, the file holds
    // tokens that do not work yet (the next run adds those ids), never a device without its token.
    for (const id of toAdd) byId.set(id, { device: id, model: options.model, token: newToken() });
    writeTokensFile(options.out, [...byId.values()]);
    for (const id of toAdd) {
      const added = await registry.add(id, options.model, byId.get(id)!.token);
      // Checked above; only a concurrent provisioning run gets here.
      if (!added.ok) return fail('device_exists', `${id}: ${added.error.code} (another provisioning run?)`);
    }
    const created = toAdd.length;
    return ok({ created, kept: options.count - created, devices: [...byId.values()] });
  } finally {
    store.close();
  }
}
