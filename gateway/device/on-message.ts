import type { Aedes } from 'aedes';
import type { CommandDelivery } from '../command/deliver.js';
import type { CommandResult, CommandValidators } from '../command/validate-command.js';
import { fail, type GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Topics } from '../topics.js';
import type { DeviceConnection } from './connection.js';
import { publishDeadLetter } from './dead-letter.js';
import { frameId, parseFrame } from './parse-frame.js';
import { publishMessage } from './publish.js';
import { pathErrors, validateMessage, type ModelValidators } from './validate.js';

export interface MessageContext {
  aedes: Aedes;
  topics: Topics;
  validators: ReadonlyMap<string, ModelValidators>;
  commands: { validators: CommandValidators; delivery: CommandDelivery };
  log: Logger;
}

/** An authenticated device frame: parse -> rate limit -> validate -> publish -> ack. */
export async function onDeviceMessage(ctx: MessageContext, conn: DeviceConnection, raw: Buffer, isBinary: boolean): Promise<void> {
  const identity = conn.identity!;
  const frame = parseFrame(raw, isBinary);
  if (!frame.ok) return reject(ctx, conn, frame.error, undefined, { raw, isBinary });
  const id = frameId(frame.value);
  // Results answer the backend's commands: their rate is the backend's, not the device's.
  if (frame.value.type === 'command_result') return onCommandResult(ctx, conn, frame.value, id);
  // Not dead-lettered: the frame is fine, the device may send it again later.
  if (!conn.limiter!.take()) return reject(ctx, conn, fail('rate_limited').error, id);
  const message = validateMessage(ctx.validators.get(identity.model)!, frame.value);
  if (!message.ok) return reject(ctx, conn, message.error, id, { raw, isBinary });

  conn.publishStarted();
  let published: Promise<void>;
  try {
    published = publishMessage(ctx.aedes, ctx.topics, identity, message.value);
  } catch (err) {
    published = Promise.reject(err as Error);
  }
  return ackWhenPublished(ctx, conn, published, message.value.id);
}

// A separate function so that only the connection and the id wait for the broker: an async
// function keeps its arguments and locals alive across `await`, which held the raw frame (a
// view that pins the socket's read chunk) and the parsed objects of every message in flight
// (12,800 for ~200 ms at saturation, in bench/) through the young-generation collections
// that are a quarter of the gateway's CPU there.
async function ackWhenPublished(ctx: MessageContext, conn: DeviceConnection, published: Promise<void>, id: string): Promise<void> {
  try {
    await published;
    conn.send({ type: 'ack', id });
  } catch (err) {
    ctx.log.error('publish failed', { code: 'internal_error', device: conn.device, id, error: (err as Error).message });
    conn.sendError(fail('internal_error').error, id);
  } finally {
    conn.publishSettled();
  }
}

function onCommandResult(ctx: MessageContext, conn: DeviceConnection, frame: object, id: string | undefined): void {
  const { validators, delivery } = ctx.commands;
  if (!validators.result(frame)) {
    return reject(ctx, conn, fail('invalid_command_result', pathErrors(validators.result.errors)).error, id);
  }
  if (!delivery.onResult(conn.identity!.device, frame as CommandResult)) {
    const unknown = [{ path: '/id', message: 'no delivered command with this id awaits a result' }];
    return reject(ctx, conn, fail('invalid_command_result', unknown).error, id);
  }
}

function reject(
  ctx: MessageContext,
  conn: DeviceConnection,
  error: GatewayError,
  id: string | undefined,
  deadLetter?: { raw: Buffer; isBinary: boolean },
): void {
  const device = conn.identity!.device;
  ctx.log.info('frame refused', { code: error.code, device, id });
  conn.sendError(error, id);
  if (!deadLetter) return;
  publishDeadLetter(ctx.aedes, ctx.topics, device, error, deadLetter.raw, deadLetter.isBinary).catch((err: Error) =>
    ctx.log.error('dead-letter publish failed', { code: 'internal_error', device, error: err.message }),
  );
}
