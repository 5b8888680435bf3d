import type { Server } from 'node:net';

/**
 * Listens and resolves with "host:port" as clients should dial it (port 0 becomes the real port).
 * `backlog` undefined keeps Node's default (511).
 */
export function listen(server: Server, host: string, port: number, backlog?: number): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, backlog, () => {
      server.off('error', reject);
      const bound = server.address();
      if (bound === null || typeof bound === 'string') return reject(new Error(`unexpected address ${String(bound)}`));
      resolve(`${dialHost(bound.address)}:${bound.port}`);
    });
  });
}

// A wildcard bind is reachable on loopback; print an address a local client can use.
function dialHost(address: string): string {
  if (address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '[::1]';
  return address.includes(':') ? `[${address}]` : address;
}
