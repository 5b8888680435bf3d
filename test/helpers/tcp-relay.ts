import { createConnection, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpRelay {
  port: number;
  /** Where new connections go; undefined refuses them (as a stopped gateway would). */
  target: number | undefined;
  /** Connections turned away while target was undefined. */
  refused: number;
  close(): Promise<void>;
}

/**
 * A fixed local port forwarding to a gateway that may move: lets a test
 * restart the gateway on fresh ports and subscribe to its MQTT *before*
 * devices can reach it again, so the subscriber misses nothing.
 */
export async function startRelay(target: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const relay: TcpRelay = { port: 0, target, refused: 0, close: async () => {} };
  const server = createServer((inbound) => {
    track(inbound);
    if (relay.target === undefined) {
      relay.refused++;
      return inbound.destroy();
    }
    const outbound = createConnection(relay.target, '127.0.0.1');
    track(outbound);
    // pipe() ends each side after flushing what the other sent (a gateway's
    // 1001 close frame must get through); destroy() would drop it.
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as AddressInfo).port;
  relay.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return relay;
}
