import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../listen.js';
import type { Logger } from '../log.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** "GET /path" -> handler: adding an endpoint is one entry. */
export type Routes = Readonly<Record<string, Handler>>;

export interface HttpListener {
  url: string;
  /** The address it is bound to, as configured (http.host): the auth policy looks at it. */
  host: string;
  close(): Promise<void>;
}

/** The HTTP port: probes, metrics, the dashboard. Unknown paths get 404, a known path with another method 405. */
export async function startHttpListener(host: string, port: number, routes: Routes, log: Logger): Promise<HttpListener> {
  const paths = new Set(Object.keys(routes).map((key) => key.slice(key.indexOf(' ') + 1)));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = routes[`${req.method} ${path}`];
    if (!handler) {
      const known = paths.has(path);
      res.writeHead(known ? 405 : 404, { 'content-type': 'text/plain' });
      res.end(known ? 'Method not allowed\n' : 'Not found\n');
      return;
    }
    // A failing handler fails its request, never the process.
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: Error) => {
        log.error('http request failed', { code: 'internal_error', path, error: err.stack });
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('Internal error\n');
      });
  });
  const url = `http://${await listen(server, { host, port, name: 'HTTP (http.port, --http-port)' })}`;
  return {
    url,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
