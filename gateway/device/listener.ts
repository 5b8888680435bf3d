import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { listen } from '../listen.js';

export const DEVICE_PATH = '/v1/device';

export interface DeviceListenerOptions {
  host: string;
  port: number;
  tls: { cert: Buffer; key: Buffer };
  maxFrameBytes: number;
  onConnection(ws: WebSocket, req: IncomingMessage): void;
}

export interface DeviceListener {
  url: string;
  wss: WebSocketServer;
  close(): Promise<void>;
}

/** The WSS endpoint: only /v1/device upgrades; every other path or plain request gets 404. */
export async function startDeviceListener(options: DeviceListenerOptions): Promise<DeviceListener> {
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (req, res) => {
    const upgradeRequired = pathOf(req) === DEVICE_PATH;
    res.writeHead(upgradeRequired ? 426 : 404, { 'content-type': 'text/plain' });
    res.end(upgradeRequired ? 'WebSocket upgrade required\n' : 'Not found\n');
  });
  // maxPayload makes ws close an oversized frame's socket with 1009 before buffering it whole.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req) !== DEVICE_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => options.onConnection(ws, req));
  });
  // A client that resets mid-handshake must not take the process down.
  server.on('tlsClientError', (_err, socket) => socket.destroy());

  const url = `wss://${await listen(server, options.host, options.port)}${DEVICE_PATH}`;
  return {
    url,
    wss,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
