import type { LoginCheck } from '../broker/check-login.js';
import type { GatewayConfig } from '../config.js';
import { DashboardFeed } from '../dashboard/feed.js';
import type { Fleet } from '../dashboard/fleet.js';
import type { RecentEvents } from '../dashboard/recent-events.js';
import { Totals } from '../dashboard/totals.js';
import type { Closers } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { createMetricsRegistry, type MetricSources } from '../metrics/prometheus.js';
import type { Readiness } from '../readiness.js';
import { httpAuth } from './basic-auth.js';
import { startHttpListener, type HttpListener } from './listener.js';
import { gatewayRoutes } from './routes.js';

export interface HttpEndpointOptions {
  config: Pick<GatewayConfig, 'http' | 'mqtt'>;
  status: () => object;
  readiness: Readiness;
  metrics: MetricSources;
  fleet: Fleet;
  recent: RecentEvents;
  asyncapi: object;
  checkLogin: LoginCheck;
  closers: Closers;
  log: Logger;
}

export const FEED_TICK_MS = 500;
// A 5,000-device snapshot is ~350 KB; a browser that leaves more than this unread is resynced.
const FEED_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const FEED_MAX_CLIENTS = 64;

/** The HTTP port with everything behind it: probes, /metrics, the dashboard and its feed, the AsyncAPI document. */
export async function startHttpEndpoint(options: HttpEndpointOptions): Promise<HttpListener> {
  const { config, closers, log } = options;
  const feed = new DashboardFeed({
    fleet: options.fleet,
    totals: new Totals(options.metrics.tally, options.metrics.mqttClients),
    recent: options.recent,
    tickMs: FEED_TICK_MS,
    maxBufferedBytes: FEED_MAX_BUFFERED_BYTES,
    maxClients: FEED_MAX_CLIENTS,
    log,
  });
  closers.add(() => feed.close());
  const guard = httpAuth({ mode: config.http.auth, host: config.http.host, checkLogin: options.checkLogin, topicRoot: config.mqtt.topicRoot, log });
  const routes = gatewayRoutes({
    status: options.status,
    readiness: options.readiness,
    metrics: createMetricsRegistry(options.metrics),
    feed,
    asyncapi: options.asyncapi,
    guard,
  });
  const http = await startHttpListener(config.http.host, config.http.port, routes, log);
  closers.add(() => http.close());
  return http;
}
