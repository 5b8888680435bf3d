// ws-mqtt-gateway/device in browsers: the native WebSocket, which cannot set headers, so the token goes in a hello frame.
import { DeviceClient } from './device-client.js';
import type { DeviceOptions } from './types.js';
import { helloSocket, type WebSocketConstructor } from './socket.js';

export interface BrowserDeviceOptions extends DeviceOptions {
  /** Defaults to the page's WebSocket. */
  WebSocket?: WebSocketConstructor;
}

export function connectDevice(options: BrowserDeviceOptions): DeviceClient {
  const WebSocket = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!WebSocket) throw new TypeError('no WebSocket in this environment: pass options.WebSocket');
  return new DeviceClient(options, helloSocket(WebSocket));
}

export { DeviceClient } from './device-client.js';
export type { Desired, DeviceEvents, DeviceOptions, MessageKind, OfflineInfo, Welcome } from './types.js';
export type { CommandHandler, CommandInfo } from './commands.js';
export { DeviceError, type PathError } from './device-error.js';
