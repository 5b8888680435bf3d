// ws-mqtt-gateway/device in Node: the token goes in the Authorization header, over the `ws` package.
import WebSocket from 'ws';
import { DeviceClient } from './device-client.js';
import type { DeviceOptions } from './types.js';
import { helloSocket, type SocketLike, type WebSocketConstructor } from './socket.js';

export interface NodeDeviceOptions extends DeviceOptions {
  /** Another WebSocket implementation; it cannot be trusted with headers, so the token goes in a hello frame. */
  WebSocket?: WebSocketConstructor;
  /** TLS for wss:// (Node only): a CA to trust, or rejectUnauthorized: false for a self-signed dev gateway. */
  tls?: { ca?: string | Buffer; rejectUnauthorized?: boolean };
}

export function connectDevice(options: NodeDeviceOptions): DeviceClient {
  if (options.WebSocket) return new DeviceClient(options, helloSocket(options.WebSocket));
  return new DeviceClient(options, (url, token) => ({
    socket: new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
      ...options.tls,
    }) as unknown as SocketLike,
    hello: false,
  }));
}

export { DeviceClient } from './device-client.js';
export type { Desired, DeviceEvents, DeviceOptions, MessageKind, OfflineInfo, Welcome } from './types.js';
export type { CommandHandler, CommandInfo } from './commands.js';
export { DeviceError, type PathError } from './device-error.js';
