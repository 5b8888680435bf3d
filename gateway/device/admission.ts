import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { CommandDelivery } from '../command/deliver.js';
import { fail } from '../errors.js';
import type { Fleet } from '../dashboard/fleet.js';
import type { Logger } from '../log.js';
import type { DeviceTwins } from '../twin/device-twins.js';
import type { DeviceBudgets } from './budgets.js';
import { closeSocket } from './close-socket.js';
import type { Handshaken } from './handshake.js';
import { DeviceConnection, type ConnectionLimits } from './connection.js';
import type { InFlightGate } from './in-flight-gate.js';
import { onDeviceMessage, type MessageContext } from './on-message.js';
import type { DeviceSessions } from './sessions.js';

export interface AdmissionOptions {
  sessions: DeviceSessions;
  budgets: DeviceBudgets;
  limits: ConnectionLimits & { maxFrameBytes: number };
  /** The gateway-wide bound on publishes in flight, shared by every connection. */
  inFlight: InFlightGate;
  heartbeatMs: number;
  messages: MessageContext;
  delivery: CommandDelivery;
  twins: Pick<DeviceTwins, 'welcome'>;
  fleet: Fleet;
  log: Logger;
}

/**
 * An authenticated socket becomes a device connection: its model must still have
 * schemas, it joins the device's session under the policy (takeover closes older
 * ones), its frames go down the data path (first those held during the handshake),
 * and queued commands and the latest desired state follow the welcome.
 */
export function admitDevice(ws: WebSocket, socket: Writable, remote: string, handshaken: Handshaken, options: AdmissionOptions): void {
  const { sessions, messages, log } = options;
  const { identity, held } = handshaken;
  const { device, model } = identity;
  if (!messages.validators.has(model)) {
    // Provisioned with a model whose schemas were removed since: nothing it sends could be checked.
    log.error('device model has no schemas; closing', { code: 'internal_error', device, model });
    return closeSocket(ws, 'internal_error');
  }
  const conn = new DeviceConnection(ws, socket, remote, identity, options.budgets.of(device), options.limits, options.fleet.activityOf(device, model), options.inFlight);
  for (const old of sessions.add(conn)) old.closeWith('replaced');
  ws.on('close', (code) => {
    sessions.remove(conn);
    log.info('device disconnected', { device, closeCode: code, ...(conn.credentialExpired && { reason: 'token_expired' }) });
  });
  const onFrame = (raw: Buffer, isBinary: boolean) => {
    try {
      onDeviceMessage(messages, conn, raw, isBinary);
    } catch (err) {
      log.error('device frame handling failed', { code: 'internal_error', device, error: (err as Error).stack });
      conn.sendError(fail('internal_error').error, undefined);
    }
  };
  ws.on('message', onFrame);
  conn.send({ type: 'welcome', device, model, heartbeatMs: options.heartbeatMs, maxFrameBytes: options.limits.maxFrameBytes });
  log.info('device connected', { device, model, remote, method: identity.method });
  // In this same turn, before the socket reads again: they keep their place ahead of later frames.
  for (const frame of held) onFrame(frame.raw, frame.isBinary);
  options.delivery.deliverPending(device);
  options.twins.welcome(conn);
}
