import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { listen } from '../listen.js';

export const DEVICE_PATH = '/v1/device';

export interface DeviceListenerOptions {
  host: string;
  port: number;
  /** Connections the kernel may hold before we accept them: a reconnect storm overflows Node's default of 511. */
  backlog: number;
  /** undefined: plain ws://, for ws.tlsOffload (a proxy in front terminates TLS). */
  tls: { cert: Buffer; key: Buffer } | undefined;
  maxFrameBytes: number;
  onConnection(ws: WebSocket, req: IncomingMessage): void;
}

export interface DeviceListener {
  url: string;
  wss: WebSocketServer;
  /** Stops accepting, gives open sockets up to `graceMs` to finish their close handshake, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

// Sockets already sent a close frame get a moment to answer it, so the device
// reads the close code (1001) instead of seeing the connection drop.
async function drain(wss: WebSocketServer, graceMs: number): Promise<void> {
  const cancel = new AbortController();
  const closed = [...wss.clients].map((ws) => (ws.readyState === ws.CLOSED ? undefined : once(ws, 'close', { signal: cancel.signal })));
  await Promise.race([Promise.allSettled(closed), sleep(graceMs, undefined, { signal: cancel.signal }).catch(() => undefined)]);
  cancel.abort();
  for (const ws of wss.clients) ws.terminate();
}

/** The device endpoint (WSS, or ws with TLS offloaded): only /v1/device upgrades; every other path or plain request gets 404. */
export async function startDeviceListener(options: DeviceListenerOptions): Promise<DeviceListener> {
  const notWebSocket: RequestListener = (req, res) => {
    const upgradeRequired = pathOf(req) === DEVICE_PATH;
    res.writeHead(upgradeRequired ? 426 : 404, { 'content-type': 'text/plain' });
    res.end(upgradeRequired ? 'WebSocket upgrade required\n' : 'Not found\n');
  };
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, notWebSocket) : createHttpServer(notWebSocket);
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
  if (options.tls) server.on('tlsClientError', (_err, socket) => socket.destroy());

  const url = `${options.tls ? 'wss' : 'ws'}://${await listen(server, options.host, options.port, options.backlog)}${DEVICE_PATH}`;
  return {
    url,
    wss,
    async close(graceMs) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await drain(wss, graceMs);
      wss.close();
      server.closeAllConnections();
      await stopped;
    },
  };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
