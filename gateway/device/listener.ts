import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Server, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { listen } from '../listen.js';
import { closeSocket } from './close-socket.js';

export const DEVICE_PATH = '/v1/device';

export interface DeviceListenerOptions {
  host: string;
  port: number;
  /** Connections the kernel may hold before we accept them: a reconnect storm overflows Node's default of 511. */
  backlog: number;
  /** undefined: plain ws://, for ws.tlsOffload (a proxy in front terminates TLS). */
  tls: { cert: Buffer; key: Buffer } | undefined;
  maxFrameBytes: number;
  /** Time a socket has to finish TLS and the upgrade; then it is destroyed. */
  handshakeTimeoutMs: number;
  /** Sockets that may be mid-handshake at once; more are destroyed on arrival. */
  maxPendingHandshakes: number;
  /** Told of each socket destroyed before its upgrade (handshake_timeout, too_many_handshakes). */
  onHandshakeRefused(code: 'handshake_timeout' | 'too_many_handshakes'): void;
  onConnection(ws: WebSocket, req: IncomingMessage): void;
}

export interface DeviceListener {
  url: string;
  wss: WebSocketServer;
  /** Stops accepting, closes every socket with 1001 and gives it up to `graceMs` to finish the close handshake, then cuts the rest. */
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

  const pending = boundHandshakes(server, options);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    pending.finished(req.socket);
    if (pathOf(req) !== DEVICE_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => options.onConnection(ws, req));
  });
  // A client that resets mid-handshake must not take the process down.
  if (options.tls) server.on('tlsClientError', (_err, socket) => socket.destroy());

  const url = `${options.tls ? 'wss' : 'ws'}://${await listen(server, { host: options.host, port: options.port, backlog: options.backlog, name: 'devices (ws.port, --ws-port)' })}${DEVICE_PATH}`;
  return {
    url,
    wss,
    async close(graceMs) {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const ws of wss.clients) closeSocket(ws, 'shutting_down');
      await drain(wss, graceMs);
      wss.close();
      server.closeAllConnections();
      await stopped;
    },
  };
}

/**
 * A socket costs memory and a file descriptor from its first byte, so the time to
 * finish TLS and the HTTP upgrade and the number of sockets doing so are bounded:
 * silent or half-open sockets cannot pile up. The TLS socket of an upgrade shares
 * its remote address and port with the TCP socket it wraps, which names it here.
 */
function boundHandshakes(server: Server, options: DeviceListenerOptions): { finished(socket: Socket): void } {
  const pending = new Map<string, () => void>();
  const keyOf = (socket: Socket) => `${socket.remoteAddress}|${socket.remotePort}`;
  server.on('connection', (socket: Socket) => {
    if (pending.size >= options.maxPendingHandshakes) {
      options.onHandshakeRefused('too_many_handshakes');
      socket.destroy();
      return;
    }
    const key = keyOf(socket);
    const timer = setTimeout(() => {
      options.onHandshakeRefused('handshake_timeout');
      socket.destroy();
    }, options.handshakeTimeoutMs);
    const done = () => {
      clearTimeout(timer);
      if (pending.get(key) === done) pending.delete(key);
    };
    pending.set(key, done);
    socket.once('close', done);
  });
  return { finished: (socket) => pending.get(keyOf(socket))?.() };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}
