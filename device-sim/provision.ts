import { listModelNames, SHIPPED_MODELS_DIR } from '../gateway/models/load-models.js';
import { DeviceRegistry } from '../gateway/registry/devices.js';
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
export function provisionDevices(options: ProvisionOptions): SimResult<ProvisionReport> {
  const previous = readTokensFileIfAny(options.out);
  if (!previous.ok) return previous;
  const store = openStore(options.dataDir);
  try {
    // The same model list the gateway loads by default, so it accepts what we add.
    const models = listModelNames(SHIPPED_MODELS_DIR);
    const registry = new DeviceRegistry(store, models);
    if (!models.includes(options.model)) {
      return fail('provision_failed', `unknown model "${options.model}"; models: ${models.join(', ')}`);
    }
    const byId = new Map(previous.value.map((identity) => [identity.device, identity]));
    // Decide everything before writing anything: a refusal half-way would leave
    // devices in the registry whose tokens were never saved.
    const toAdd: string[] = [];
    for (const id of deviceIds(options.prefix, options.count)) {
      const known = byId.get(id);
      if (known && registry.authenticate(known.token)?.device === id) continue;
      if (!isValidDeviceId(id)) return fail('provision_failed', `"${id}" is not a valid id: ${DEVICE_ID_RULE}`);
      if (registry.get(id)) {
        return fail('device_exists', `${id} is already provisioned and its token is not in ${options.out}; use another --prefix`);
      }
      toAdd.push(id);
    }
    store.transaction(() => {
      for (const id of toAdd) {
        const added = registry.add(id, options.model);
        // Checked above; only a concurrent provisioning run gets here, and throwing rolls back.
        if (!added.ok) throw new Error(`${id}: ${added.error.code}`);
        byId.set(id, { device: id, model: options.model, token: added.value.token });
      }
      // Inside the transaction: if the tokens cannot be saved, the devices are not added either.
      writeTokensFile(options.out, [...byId.values()]);
    })();
    const created = toAdd.length;
    return ok({ created, kept: options.count - created, devices: [...byId.values()] });
  } finally {
    store.close();
  }
}
