import { printResult } from './output.js';
import type { CommonFlags } from './resolve-config.js';
import { withRegistries } from './with-registries.js';

export interface DeviceFlags extends CommonFlags {
  model?: string;
  json?: boolean;
}

type DeviceAction = 'add' | 'list' | 'revoke' | 'rotate';

// The same registry code the gateway uses, on the same store (SQLite file or Redis): a
// running gateway sees a new device at once and acts on revoke/rotate within a second.
export function devicesCommand(action: DeviceAction, id: string | undefined, flags: DeviceFlags): Promise<void> {
  return withRegistries(flags, async ({ devices: registry }) => {
    const json = Boolean(flags.json);
    if (action === 'list') {
      const devices = await registry.list();
      printResult(json, undefined, devices, () =>
        devices.length === 0
          ? 'No devices. Add one with: ws-mqtt-gateway devices add ID --model MODEL'
          : devices
              .map((d) => `${d.device.padEnd(24)} ${d.model.padEnd(12)} ${d.revokedAt ? 'revoked' : 'active '}  since ${new Date(d.createdAt).toISOString()}`)
              .join('\n'),
      );
    } else if (action === 'add') {
      const result = await registry.add(id!, flags.model!);
      printResult(json, result.ok ? undefined : result.error, result.ok && result.value, () =>
        result.ok ? `Device ${result.value.device} (${result.value.model}) added. Its token, shown only now:\n${result.value.token}` : '',
      );
    } else if (action === 'rotate') {
      const result = await registry.rotate(id!);
      printResult(json, result.ok ? undefined : result.error, result.ok && result.value, () =>
        result.ok ? `New token for ${result.value.device}, shown only now (the old one no longer works):\n${result.value.token}` : '',
      );
    } else {
      const result = await registry.revoke(id!);
      printResult(json, result.ok ? undefined : result.error, result.ok && { device: id, revoked: true }, () =>
        `Device ${id} revoked; its live connections are closed (4401).`,
      );
    }
  });
}
