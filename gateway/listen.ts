import type { Server } from 'node:net';
import { ConfigError } from './errors.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Connections the kernel may queue; undefined keeps Node's default (511). */
  backlog?: number;
  /** What listens, with the config key that moves it, for the message when the port is taken. */
  name: string;
}

/**
 * Listens and resolves with "host:port" as clients should dial it (port 0 becomes the real port).
 * A port that is taken or not permitted is the user's to fix: a ConfigError naming it.
 */
export function listen(server: Server, options: ListenOptions): Promise<string> {
  const { host, port, backlog, name } = options;
  return new Promise((resolve, reject) => {
    const refused = (err: NodeJS.ErrnoException) => {
      const known = err.code === 'EADDRINUSE' || err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL';
      reject(known ? new ConfigError(`Cannot listen on ${host}:${port} for ${name} (${err.code})`) : err);
    };
    server.once('error', refused);
    server.listen(port, host, backlog, () => {
      server.off('error', refused);
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
