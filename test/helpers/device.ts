import { WebSocket } from 'ws';
import { Arrivals } from './arrivals.js';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

/** A real ws client whose frames a test awaits in arrival order. */
export class TestDevice {
  readonly #frames = new Arrivals<Frame>('frame');
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.#frames.push(JSON.parse(data.toString()) as Frame));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  nextFrame(timeoutMs = 5000): Promise<Frame> {
    return this.#frames.next(timeoutMs);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}

/** What a device needs of a gateway: its WSS address and the CA that signed its certificate. */
export interface DeviceTarget {
  addresses: { ws: string };
  ca: Buffer;
}

export interface DeviceOptions {
  /** Authenticate with a hello frame instead of the Authorization header. */
  hello?: boolean;
  /** Answer pings (default true); false simulates a dead peer. */
  autoPong?: boolean;
  url?: string;
}

/** Opens a socket (TLS verified against the gateway's dev certificate) without waiting for welcome. */
export async function openDevice(gw: DeviceTarget, token: string | undefined, options: DeviceOptions = {}): Promise<TestDevice> {
  const headers: Record<string, string> = token && !options.hello ? { authorization: `Bearer ${token}` } : {};
  const ws = new WebSocket(options.url ?? gw.addresses.ws, { ca: gw.ca, headers, autoPong: options.autoPong ?? true });
  const device = new TestDevice(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (token && options.hello) device.send({ type: 'hello', token });
  return device;
}

/** Opens a socket and waits for the welcome frame. */
export async function connectDevice(gw: DeviceTarget, token: string, options: DeviceOptions = {}): Promise<TestDevice> {
  const device = await openDevice(gw, token, options);
  const welcome = await device.nextFrame();
  if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
  return device;
}

export function telemetry(id: string, data: Record<string, unknown>, ts?: number | string): Frame {
  return ts === undefined ? { type: 'telemetry', id, data } : { type: 'telemetry', id, ts, data };
}
