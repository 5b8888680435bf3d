import { createServer, type Server } from 'node:http';
import { listen } from '../listen.js';
import type { HttpRoute } from './sdk-script.js';

export interface HealthEndpoint {
  url: string;
  close(): Promise<void>;
}

/** Plain HTTP for load balancers and probes: GET /healthz -> 200 with live counts; `routes` answer the rest. */
export async function startHealthEndpoint(host: string, port: number, status: () => object, routes: readonly HttpRoute[] = []): Promise<HealthEndpoint> {
  const server: Server = createServer((req, res) => {
    if (routes.some((route) => route(req, res))) return;
    if (req.method === 'GET' && (req.url === '/healthz' || req.url?.startsWith('/healthz?'))) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: 'ok', ...status() }));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not found\n');
  });
  const url = `http://${await listen(server, { host, port, name: 'HTTP (http.port, --http-port)' })}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
