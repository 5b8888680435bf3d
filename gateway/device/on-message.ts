import type { Aedes } from 'aedes';
import type { CommandDelivery } from '../command/deliver.js';
import type { CommandResult, CommandValidators } from '../command/validate-command.js';
import type { Counters } from '../counters.js';
import { fail, type GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RecentEvents } from '../dashboard/recent-events.js';
import type { Tally } from '../metrics/tally.js';
import type { Topics } from '../topics.js';
import type { DeviceTwins } from '../twin/device-twins.js';
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
  /** False while the shared store (Redis) is away: a message could not be made durable, so it is not taken. */
  storeAvailable(): boolean;
  counters: Counters;
  /** Reported state (accepted state frames) goes into the device's twin before the ack. */
  twins: Pick<DeviceTwins, 'onReported'>;
  tally: Tally;
  /** Dead letters for the dashboard's recent list. */
  recent: RecentEvents;
  log: Logger;
}

/** An authenticated device frame: parse -> rate limit -> validate -> publish -> ack. */
export function onDeviceMessage(ctx: MessageContext, conn: DeviceConnection, raw: Buffer, isBinary: boolean): void {
  // Once the gateway (or the device) started closing, nothing more is processed or answered.
  if (!conn.isOpen) return;
  const receivedAt = performance.now();
  const frame = parseFrame(raw, isBinary);
  // Parsing admits known types only (the tally's keys), so no device can add a series.
  ctx.tally.framesReceived[frame.ok ? frame.value.type : 'invalid']!++;
  conn.activity.frames++;
  const id = frame.ok ? frameId(frame.value) : undefined;
  // Every frame costs budget, refused ones included: parsing and refusing are work too.
  if (!conn.budget.frames.take()) return refuse(ctx, conn, fail('rate_limited').error, id);
  if (!frame.ok) return refuse(ctx, conn, frame.error, undefined, { raw, isBinary });
  // A second hello (a client library that sends both header and hello) carries the token: never dead-lettered.
  if (frame.value.type === 'hello') return refuse(ctx, conn, fail('bad_frame').error, id);
  if (frame.value.type === 'command_result') return onCommandResult(ctx, conn, frame.value, id);
  const message = validateMessage(ctx.validators.get(conn.identity.model)!, frame.value);
  if (!message.ok) return refuse(ctx, conn, message.error, id, { raw, isBinary });
  // Not a refusal of the device's frame (no refusal budget, no dead letter): it resends once the store is back.
  if (!ctx.storeAvailable()) {
    ctx.counters.count('store_unavailable');
    conn.sendError(fail('store_unavailable').error, message.value.id);
    return;
  }

  conn.publishStarted();
  const acked = ackWhenPublished(ctx, conn, message.value.id, message.value.type, receivedAt);
  const done = message.value.type === 'state' ? reportThen(ctx, conn.device, message.value.state, acked) : acked;
  try {
    publishMessage(ctx.aedes, ctx.topics, conn.identity, message.value, done);
  } catch (err) {
    done(err as Error);
  }
}

// The callback aedes holds until the broker has taken the message: it closes over the
// connection and the id only. Every message in flight waits here (12,800 for ~200 ms at
// saturation, in bench/), so whatever it keeps alive is copied by each young-generation
// collection, which are a quarter of the gateway's CPU there: an async function awaiting
// the publish kept the raw frame, a view pinning the socket's read chunk, and the parsed
// frame; a promise per publish added a promise, its resolvers and a microtask hop.
// The kind and the start time are a string constant and a number: nothing more is kept alive.
function ackWhenPublished(
  ctx: MessageContext,
  conn: DeviceConnection,
  id: string,
  kind: 'telemetry' | 'state',
  receivedAt: number,
): (err?: Error | null) => void {
  let settled = false; // a throw after aedes took `done` must not settle twice
  return (err) => {
    if (settled) return;
    settled = true;
    if (err) {
      ctx.log.error('publish failed', { code: 'internal_error', device: conn.device, id, error: err.message });
      conn.sendError(fail('internal_error').error, id);
    } else {
      conn.send({ type: 'ack', id });
      ctx.tally.ackLatency.observeMs(performance.now() - receivedAt);
      ctx.tally.published[kind]++;
      if (kind === 'telemetry') conn.activity.readings++;
    }
    conn.publishSettled();
  };
}

// State frames are rare: the extra closure and promise cost nothing next to telemetry's path.
function reportThen(ctx: MessageContext, device: string, state: Record<string, unknown>, acked: (err?: Error | null) => void) {
  return (err?: Error | null): void => {
    if (err) return acked(err);
    ctx.twins.onReported(device, state).then(() => acked(), acked);
  };
}

function onCommandResult(ctx: MessageContext, conn: DeviceConnection, frame: object, id: string | undefined): void {
  const { validators, delivery } = ctx.commands;
  if (!validators.result(frame)) {
    return refuse(ctx, conn, fail('invalid_command_result', pathErrors(validators.result.errors)).error, id);
  }
  delivery.onResult(conn.device, frame as CommandResult).then(
    (matched) => {
      if (matched) return;
      const unknown = [{ path: '/id', message: 'no delivered command with this id awaits a result' }];
      refuse(ctx, conn, fail('invalid_command_result', unknown).error, id);
    },
    (err: Error) => {
      // The device resends an unanswered result; the command times out if it never lands.
      ctx.log.error('command result not recorded', { code: 'store_unavailable', device: conn.device, id, error: err.message });
      conn.sendError(fail('store_unavailable').error, id);
    },
  );
}

/**
 * Answers a refused frame, and records it (log line, dead letter) within the device's
 * dead-letter budget; past that it is only counted. A device that goes on sending
 * refused frames past its refusal budget is closed.
 */
function refuse(
  ctx: MessageContext,
  conn: DeviceConnection,
  error: GatewayError,
  id: string | undefined,
  deadLetter?: { raw: Buffer; isBinary: boolean },
): void {
  const device = conn.device;
  ctx.counters.count(error.code);
  ctx.tally.refused(error.code);
  conn.activity.lastRefusal = error.code;
  conn.sendError(error, id);
  if (!conn.budget.refusals.take()) {
    ctx.counters.count('flooding');
    ctx.log.warn('device keeps sending refused frames; closing', { code: 'flooding', device, lastRefusal: error.code });
    return conn.closeWith('flooding');
  }
  // Rate-limited frames are fine frames sent too fast: not recorded one by one.
  if (error.code === 'rate_limited') return;
  if (!conn.budget.deadLetters.take()) return ctx.counters.count('deadletters_suppressed');
  ctx.log.info('frame refused', { code: error.code, device, id });
  if (!deadLetter) return;
  ctx.tally.deadLetters++;
  ctx.recent.deadLetter(device, error);
  publishDeadLetter(ctx.aedes, ctx.topics, device, error, deadLetter.raw, deadLetter.isBinary).catch((err: Error) =>
    ctx.log.error('dead-letter publish failed', { code: 'internal_error', device, error: err.message }),
  );
}
