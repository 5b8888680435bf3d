import { randomBytes } from 'node:crypto';
import { connect, type TLSSocket } from 'node:tls';
import { Arrivals } from './arrivals.js';
import type { Frame } from './device.js';
import type { TestGateway } from './gateway.js';
import { serverFrame } from '../../bench/load/server-frame.js';

const TEXT = 0x1;
const CLOSE = 0x8;
const PING = 0x9;

export interface CloseFrame {
  code: number;
  reason: string;
  /** Date.now() when it arrived. */
  at: number;
}

/**
 * A device client written by hand (TLS, HTTP upgrade, RFC 6455 framing) that never
 * answers a close frame and can keep sending after one: what a buggy or hostile
 * device does, and what a `ws` client (which answers close at once) cannot play.
 */
export class RawDevice {
  readonly #frames = new Arrivals<Frame>('frame');
  #buffered: Buffer = Buffer.alloc(0);
  #resolveClose!: (frame: CloseFrame) => void;
  /** The gateway's close frame, when it sends one. */
  readonly closeFrame = new Promise<CloseFrame>((resolve) => (this.#resolveClose = resolve));
  /** Date.now() when the TCP connection ended (the gateway cut it or closed it). */
  readonly ended: Promise<number>;
  /** Text frames that arrived after the close frame (the gateway must send none). */
  readonly afterClose: Frame[] = [];
  #closeSeen = false;

  /** `rest`: bytes that came after the HTTP 101 response in the same read. */
  constructor(readonly socket: TLSSocket, rest: Buffer) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve(Date.now())));
    socket.on('error', () => {}); // a cut connection shows as `ended`
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    if (rest.length > 0) this.#read(rest);
  }

  nextFrame(timeoutMs = 5000): Promise<Frame> {
    return this.#frames.next(timeoutMs);
  }

  /** A masked text frame, as RFC 6455 5.3 requires of clients; written whatever the gateway said before. */
  send(frame: unknown): void {
    this.socket.write(clientFrame(TEXT, Buffer.from(typeof frame === 'string' ? frame : JSON.stringify(frame))));
  }

  destroy(): void {
    this.socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
    for (let frame = serverFrame(this.#buffered); frame; frame = serverFrame(this.#buffered)) {
      this.#buffered = this.#buffered.subarray(frame.size);
      if (frame.opcode === CLOSE) {
        this.#closeSeen = true;
        const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005;
        this.#resolveClose({ code, reason: frame.payload.subarray(2).toString(), at: Date.now() });
      } else if (frame.opcode === TEXT) {
        const parsed = JSON.parse(frame.payload.toString()) as Frame;
        if (this.#closeSeen) this.afterClose.push(parsed);
        this.#frames.push(parsed);
      } else if (frame.opcode === PING && !this.#closeSeen) {
        this.socket.write(clientFrame(0xa, frame.payload));
      }
    }
  }
}

/** Opens TLS (verified against the gateway's dev certificate) and upgrades with the Bearer token; resolves after the 101. */
export function openRawDevice(gw: TestGateway, token: string, timeoutMs = 5000): Promise<RawDevice> {
  const url = new URL(gw.addresses.ws);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: gw.ca, servername: 'localhost' });
    const timer = setTimeout(() => fail(new Error(`no upgrade within ${timeoutMs} ms`)), timeoutMs);
    let head: Buffer = Buffer.alloc(0);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      socket.off('error', fail);
      clearTimeout(timer);
      const status = head.toString('latin1', 9, 12);
      if (status !== '101') return fail(new Error(`upgrade refused: HTTP ${status}`));
      resolve(new RawDevice(socket, head.subarray(end + 4)));
    };
    socket.on('error', fail);
    socket.on('data', onData);
    socket.once('secureConnect', () => {
      socket.write(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          `Authorization: Bearer ${token}\r\n\r\n`,
      );
    });
  });
}

/** Opens a raw device and waits for its welcome frame. */
export async function connectRawDevice(gw: TestGateway, token: string): Promise<RawDevice> {
  const device = await openRawDevice(gw, token);
  const welcome = await device.nextFrame();
  if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
  return device;
}

function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? Buffer.alloc(2) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  header[0] = 0x80 | opcode; // FIN
  if (length < 126) header[1] = 0x80 | length;
  else if (length < 65536) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

