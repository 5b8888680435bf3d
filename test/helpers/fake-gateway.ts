import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ValidateFunction } from 'ajv';
import { WebSocketServer, type WebSocket } from 'ws';
import type { DeviceIdentity } from '../../device-sim/device.js';
import { compileSchemas } from './compile-schemas.js';

/**
 * A tiny stand-in speaking device protocol v1 over plain ws, for testing the
 * simulator's client loop before (and independently of) the real gateway:
 * bearer auth, welcome, schema check, ack or error, commands. It can hold
 * acks back and restart on the same port, to exercise resends.
 */
export class FakeGateway {
  /** Every telemetry frame received, in order: `${device}/${id}`. */
  readonly received: string[] = [];
  readonly acked = new Set<string>();
  readonly commandResults: Record<string, unknown>[] = [];
  /** While true, valid telemetry is recorded but not acked. */
  holdAcks = false;
  readonly #tokens: Map<string, DeviceIdentity>;
  readonly #validators: Map<string, ValidateFunction> = compileSchemas('telemetry');
  readonly #sockets = new Map<string, WebSocket>();
  #server: Server | undefined;
  #wss: WebSocketServer | undefined;
  #port = 0;

  constructor(devices: readonly DeviceIdentity[]) {
    this.#tokens = new Map(devices.map((d) => [d.token, d]));
  }

  get url(): string {
    return `ws://127.0.0.1:${this.#port}/v1/device`;
  }

  get connected(): number {
    return this.#sockets.size;
  }

  async start(): Promise<void> {
    const wss = new WebSocketServer({ noServer: true });
    const server = createServer();
    server.on('upgrade', (request, socket, head) => {
      wss.handleUpgrade(request, socket, head, (ws) => {
        const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        const identity = token ? this.#tokens.get(token) : undefined;
        if (!identity) return ws.close(4401, 'unauthorized');
        this.#sockets.get(identity.device)?.close(4409, 'replaced');
        this.#sockets.set(identity.device, ws);
        ws.on('close', () => {
          if (this.#sockets.get(identity.device) === ws) this.#sockets.delete(identity.device);
        });
        ws.on('message', (data) => this.#onFrame(ws, identity, data.toString()));
        ws.send(JSON.stringify({ type: 'welcome', device: identity.device, model: identity.model, heartbeatMs: 30000, maxFrameBytes: 65536 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(this.#port, '127.0.0.1', resolve));
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
    this.#wss = wss;
  }

  /** Closes every device with 1001 (as a gateway shutting down does) and stops listening. */
  async stop(): Promise<void> {
    for (const ws of this.#sockets.values()) ws.close(1001, 'shutting down');
    this.#sockets.clear();
    this.#wss?.close();
    await new Promise<void>((resolve) => {
      if (!this.#server) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  sendCommand(device: string, command: { id: string; name: string; params: Record<string, unknown> }): void {
    this.#sockets.get(device)?.send(JSON.stringify({ type: 'command', ...command, expiresAt: Date.now() + 60_000 }));
  }

  #onFrame(ws: WebSocket, identity: DeviceIdentity, text: string): void {
    const frame = JSON.parse(text) as { type: string; id: string; data?: unknown };
    if (frame.type === 'command_result') {
      this.commandResults.push({ device: identity.device, ...(frame as object) });
      return;
    }
    if (frame.type === 'state') return ws.send(JSON.stringify({ type: 'ack', id: frame.id }));
    const key = `${identity.device}/${frame.id}`;
    this.received.push(key);
    if (!this.#validators.get(identity.model)!(frame.data)) {
      return ws.send(JSON.stringify({ type: 'error', id: frame.id, code: 'invalid_telemetry', message: 'x', errors: [] }));
    }
    if (this.holdAcks) return;
    this.acked.add(key);
    ws.send(JSON.stringify({ type: 'ack', id: frame.id }));
  }
}

/** Polls until `condition` holds; fails the test with `what` after timeoutMs. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function fakeIdentities(count: number, model = 'env-sensor'): DeviceIdentity[] {
  return Array.from({ length: count }, (_, i) => ({ device: `t-${i}`, model, token: `token-${i}` }));
}
