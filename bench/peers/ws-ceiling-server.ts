/**
 * The ceiling: a bare ws server that JSON.parses each reading and answers with its id.
 * Nothing else. With `--tls CERT KEY` it serves wss:// the way our gateway does, which
 * separates what TLS costs from what the gateway costs.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { WebSocketServer } from 'ws';

const [flag, certFile, keyFile] = process.argv.slice(2);
const server = flag === '--tls' ? createServer({ cert: readFileSync(certFile!), key: readFileSync(keyFile!) }) : undefined;
const wss = server
  ? new WebSocketServer({ server, perMessageDeflate: false })
  : new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (raw: Buffer) => {
    const reading = JSON.parse(raw.toString()) as { id: string };
    ws.send(reading.id);
  });
});
const announce = (port: number): void => void process.stdout.write(`${JSON.stringify({ ws: `${server ? 'wss' : 'ws'}://127.0.0.1:${port}` })}\n`);
if (server) server.listen(0, '127.0.0.1', () => announce((server.address() as { port: number }).port));
else wss.on('listening', () => announce((wss.address() as { port: number }).port));
process.once('SIGTERM', () => process.exit(0));
