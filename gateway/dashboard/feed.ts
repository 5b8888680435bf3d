import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { Fleet } from './fleet.js';
import type { RecentEvents } from './recent-events.js';
import type { Totals } from './totals.js';

export interface FeedOptions {
  fleet: Fleet;
  totals: Totals;
  recent: RecentEvents;
  tickMs: number;
  /** Unsent bytes a browser may leave queued; past it the browser is dropped (EventSource reconnects and gets a fresh snapshot). */
  maxBufferedBytes: number;
  maxClients: number;
  log: Logger;
}

const KEEPALIVE_MS = 15_000;

/**
 * The dashboard's live feed (server-sent events): a `snapshot` when a browser
 * connects, then every tick one `changes` event with the devices that changed and
 * the new samples and events, written once for all browsers.
 */
export class DashboardFeed {
  readonly #clients = new Set<ServerResponse>();
  readonly #timer: NodeJS.Timeout;
  #sentSeq: number;
  #ticks = 0;
  #quietSince = Date.now();

  constructor(private readonly options: FeedOptions) {
    this.#sentSeq = options.recent.seq;
    this.#timer = setInterval(() => {
      try {
        this.#tick(Date.now());
      } catch (err) {
        options.log.error('dashboard feed tick failed', { code: 'internal_error', error: (err as Error).stack });
      }
    }, options.tickMs);
    this.#timer.unref();
  }

  get clients(): number {
    return this.#clients.size;
  }

  attach(req: IncomingMessage, res: ServerResponse): void {
    if (this.#clients.size >= this.options.maxClients) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10' });
      res.end(`Too many dashboard feeds open (${this.options.maxClients})\n`);
      return;
    }
    const { fleet, totals, recent } = this.options;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(`retry: 2000\n\n`);
    res.write(event('snapshot', { now: Date.now(), devices: fleet.rows(), totals: totals.samples, ...recent.since(0) }));
    this.#clients.add(res);
    req.socket.setNoDelay(true);
    res.once('close', () => this.#clients.delete(res));
  }

  close(): void {
    clearInterval(this.#timer);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #tick(now: number): void {
    const { fleet, totals, recent, tickMs } = this.options;
    const devices = fleet.tick(now);
    const sample = ++this.#ticks % Math.max(1, Math.round(1000 / tickMs)) === 0 ? totals.sample(now) : undefined;
    const fresh = recent.since(this.#sentSeq);
    this.#sentSeq = recent.seq;
    if (devices.length === 0 && !sample && fresh.deadLetters.length === 0 && fresh.commands.length === 0) {
      if (now - this.#quietSince >= KEEPALIVE_MS) this.#broadcast(': keepalive\n\n', now);
      return;
    }
    this.#broadcast(event('changes', { now, devices, ...(sample ? { totals: [sample] } : {}), ...fresh }), now);
  }

  #broadcast(text: string, now: number): void {
    this.#quietSince = now;
    for (const res of this.#clients) {
      // A browser that does not read (a background tab, a dead link) would otherwise keep every tick in memory.
      if (res.writableLength > this.options.maxBufferedBytes) {
        this.options.log.info('dashboard feed dropped: the browser does not read it', { bufferedBytes: res.writableLength });
        this.#clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}

const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
