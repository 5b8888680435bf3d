/**
 * Aedes as a user would run it for WebSocket devices: MQTT over ws (ws.createWebSocketStream)
 * plus MQTT over TCP for the backend. Default options, TCP_NODELAY on the TCP side.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';

const aedes = await Aedes.createBroker();
const tcp = createServer({ noDelay: true }, aedes.handle);
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => aedes.handle(createWebSocketStream(ws)));
await new Promise<void>((resolve) => wss.on('listening', resolve));
const port = (server: { address(): unknown }): number => (server.address() as { port: number }).port;
process.stdout.write(`${JSON.stringify({ ws: `ws://127.0.0.1:${port(wss)}`, mqtt: `mqtt://127.0.0.1:${port(tcp)}` })}\n`);
process.once('SIGTERM', () => process.exit(0));
