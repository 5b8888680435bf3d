import { createConnection } from 'node:net';
import mqtt, { MqttClient } from 'mqtt';

export interface ConnectOutcome {
  /** connected: CONNACK 0; refused: a CONNACK with `code`; closed: the socket ended first. */
  kind: 'connected' | 'refused' | 'closed';
  code?: number;
  ms: number;
}

export interface ConnectOptions {
  /** Source address of the TCP connection (any 127.x works on Linux loopback). */
  from?: string;
  /** > 0: retry, also after a refusing CONNACK, as a deployed backend would. */
  reconnectPeriod?: number;
}

/** An mqtt.js client for `url` (mqtt://host:port), optionally from a given source address. */
export function mqttClient(url: string, username: string, password: string, options: ConnectOptions = {}): MqttClient {
  // reconnectOnConnackError: mqtt.js v5 gives up after any refusing CONNACK unless told otherwise.
  const reconnectPeriod = options.reconnectPeriod ?? 0;
  const connectOptions = { username, password, reconnectPeriod, reconnectOnConnackError: reconnectPeriod > 0, connectTimeout: 15_000 };
  if (!options.from) return mqtt.connect(url, connectOptions);
  const { hostname, port } = new URL(url);
  const localAddress = options.from;
  return new MqttClient(() => createConnection({ host: hostname, port: Number(port), localAddress }), connectOptions);
}

/** One CONNECT and its answer; the client is gone afterwards. Bounded by connectTimeout (15 s). */
export function tryConnect(url: string, username: string, password: string, options: ConnectOptions = {}): Promise<ConnectOutcome> {
  return settleConnect(mqttClient(url, username, password, options));
}

/** The answer to a client's first CONNECT (ms counted from now); ends the client. */
export function settleConnect(client: MqttClient): Promise<ConnectOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const settle = (outcome: Omit<ConnectOutcome, 'ms'>): void => {
      resolve({ ...outcome, ms: Date.now() - started });
      client.end(true);
    };
    client.once('connect', () => settle({ kind: 'connected' }));
    client.once('error', (err: Error & { code?: unknown }) =>
      settle(typeof err.code === 'number' ? { kind: 'refused', code: err.code } : { kind: 'closed' }),
    );
    client.once('close', () => settle({ kind: 'closed' }));
  });
}
