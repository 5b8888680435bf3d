import { randomUUID } from 'node:crypto';
import { fail } from '../errors.js';
import type { DeviceRegistry } from '../registry/devices.js';
import type { CommandDelivery } from './deliver.js';
import { COMMAND_ID, validateCommand, type CommandValidators } from './validate-command.js';

export interface CommandContext {
  registry: DeviceRegistry;
  validators: CommandValidators;
  delivery: CommandDelivery;
  defaultTtlMs: number;
}

/**
 * A backend's publish on {root}/{device}/commands: device -> validate -> queue
 * and deliver. Runs before the broker acks the publish, so an accepted command
 * is on disk by the time the backend's PUBACK arrives.
 */
export async function onBackendCommand(ctx: CommandContext, device: string, payload: Buffer): Promise<void> {
  const known = await ctx.registry.get(device);
  if (!known) return ctx.delivery.reject(device, statusId(payload), fail('unknown_device').error);
  const request = validateCommand(ctx.validators, known.model, payload);
  if (!request.ok) return ctx.delivery.reject(device, statusId(payload), request.error);

  const { id = randomUUID(), name, params, ttlMs = ctx.defaultTtlMs } = request.value;
  const acceptedAt = Date.now();
  await ctx.delivery.submit({ device, id, name, params, acceptedAt, expiresAt: acceptedAt + ttlMs });
}

const COMMAND_ID_PATTERN = new RegExp(COMMAND_ID);

// A rejection is reported under the backend's own id when that id is usable as a topic level.
function statusId(payload: Buffer): string {
  try {
    const id = (JSON.parse(payload.toString('utf8')) as { id?: unknown } | null)?.id;
    if (typeof id === 'string' && COMMAND_ID_PATTERN.test(id)) return id;
  } catch {
    // not JSON: fall through to a fresh id
  }
  return randomUUID();
}
