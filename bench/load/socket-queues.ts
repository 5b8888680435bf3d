import { existsSync, readFileSync } from 'node:fs';

const TABLES = ['/proc/net/tcp', '/proc/net/tcp6'];
const ESTABLISHED = '01';

/**
 * Bytes on their way to the server listening on `port`, from the kernel's TCP tables: what
 * the clients' kernels still hold to send there (send queues of sockets to `port`) and what
 * the server has not read yet (receive queues of its sockets on `port`). A server that
 * stops reading leaves them there. Linux only: NaN without /proc/net/tcp.
 */
export function bytesQueuedTowards(port: number): number {
  const tables = TABLES.filter((file) => existsSync(file));
  if (tables.length === 0) return NaN;
  let total = 0;
  for (const file of tables) {
    // sl local_address rem_address st tx_queue:rx_queue ..., addresses as HEXIP:HEXPORT
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 5 || fields[3] !== ESTABLISHED) continue;
      const [tx, rx] = fields[4]!.split(':').map((hex) => parseInt(hex, 16)) as [number, number];
      if (portOf(fields[1]!) === port) total += rx;
      else if (portOf(fields[2]!) === port) total += tx;
    }
  }
  return total;
}

const portOf = (address: string): number => parseInt(address.slice(address.lastIndexOf(':') + 1), 16);
