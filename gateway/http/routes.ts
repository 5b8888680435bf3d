import type { Registry } from 'prom-client';
import type { DashboardFeed } from '../dashboard/feed.js';
import { pageFile } from '../dashboard/page-files.js';
import type { Readiness } from '../readiness.js';
import { healthz, readyz } from './health.js';
import { sdkScript } from './sdk-script.js';
import { sendJson, type Handler, type Routes } from './listener.js';

export interface RouteContext {
  status: () => object;
  readiness: Readiness;
  metrics: Registry;
  feed: DashboardFeed;
  asyncapi: object;
  /** Puts a handler behind http.auth (basic-auth.ts). */
  guard: (handler: Handler) => Handler;
}

/** Every endpoint of the HTTP port. Probes and the protocol description are open; what shows the fleet is guarded. */
export function gatewayRoutes(ctx: RouteContext): Routes {
  const { guard } = ctx;
  return {
    'GET /healthz': healthz(ctx.status),
    'GET /readyz': readyz(ctx.readiness),
    'GET /asyncapi.json': (_req, res) => sendJson(res, 200, ctx.asyncapi),
    // The browser device SDK: code, no fleet data, so open like the probes.
    'GET /sdk/device.js': sdkScript(),
    'GET /metrics': guard(async (_req, res) => {
      const text = await ctx.metrics.metrics();
      res.writeHead(200, { 'content-type': ctx.metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
    }),
    'GET /': guard(pageFile('index.html')),
    'GET /dashboard.js': guard(pageFile('dashboard.js')),
    'GET /dashboard.css': guard(pageFile('dashboard.css')),
    'GET /events': guard((req, res) => ctx.feed.attach(req, res)),
  };
}
