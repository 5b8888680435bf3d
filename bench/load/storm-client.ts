import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { connect, createSecureContext, type TLSSocket } from 'node:tls';
import type { BenchDevice, Target } from './task.js';
import { serverFrame } from './server-frame.js';

const UNCHECKED = createSecureContext({});
const CLOSE = 0x8;
const TEXT = 0x1;

/**
 * One storm device: TLS, the WebSocket upgrade with its Bearer token, and the gateway's
 * first frame, all by hand. The load generator plays 5,000 devices on one core, so every
 * client-side cost the gateway never sees is left out: the ws client's HTTP machinery
 * (~0.2 ms per device) and the certificate check (~0.23 ms per device, almost all in
 * Node's getPeerCertificate, which it runs for every trusted certificate). The gateway's
 * side of the handshake is the same either way: its certificate is sent and its
 * signature made and checked by OpenSSL on both ends. Resolves with the socket once the
 * welcome frame has arrived; rejects with `reason` as connectAll counts it (close code,
 * or error:<message>).
 */
export function welcomeDevice(target: Target, device: BenchDevice): Promise<TLSSocket> {
  const url = new URL(target.deviceUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port: Number(url.port),
      servername: isIP(host) ? undefined : host,
      // A shared context without the CA: the chain check fails fast and is ignored,
      // instead of Node turning the certificate into a JS object for every device.
      secureContext: UNCHECKED,
      rejectUnauthorized: false,
    });
    socket.setNoDelay(true);
    let received: Buffer = Buffer.alloc(0);
    let upgraded = false;
    let settled = false;
    const fail = (reason: string): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(Object.assign(new Error(`storm device ${device.id}: ${reason}`), { reason }));
    };
    socket.once('secureConnect', () => {
      socket.write(
        `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n` +
          `Authorization: Bearer ${device.token}\r\n\r\n`,
      );
    });
    socket.on('data', (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      if (!upgraded) {
        const end = received.indexOf('\r\n\r\n');
        if (end === -1) return;
        const status = received.toString('latin1', 9, 12);
        if (status !== '101') return fail(`http:${status}`);
        upgraded = true;
        received = received.subarray(end + 4);
      }
      const frame = serverFrame(received);
      if (!frame) return;
      if (frame.opcode === CLOSE) return fail(frame.payload.length >= 2 ? String(frame.payload.readUInt16BE(0)) : 'close');
      if (frame.opcode !== TEXT || (JSON.parse(frame.payload.toString()) as { type?: string }).type !== 'welcome') return fail('error:first frame was not welcome');
      settled = true;
      socket.removeAllListeners('data');
      resolve(socket);
    });
    socket.on('error', (err) => fail(`error:${err.message}`));
    socket.on('close', () => fail('error:closed before welcome'));
  });
}

