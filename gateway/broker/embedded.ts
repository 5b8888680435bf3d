import type { EventEmitter } from 'node:events';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Counters } from '../counters.js';
import type { Logger } from '../log.js';
import type { Tally } from '../metrics/tally.js';
import type { BackendUser } from '../registry/users.js';
import { listen } from '../listen.js';
import { mayPublish, maySubscribe } from './authorize.js';
import type { LoginCheck } from './check-login.js';
import { addressKey } from './login-failures.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  tlsPort: number | null;
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Decides backend logins; shared with the HTTP listener, so both draw on one guessing budget. */
  checkLogin: LoginCheck;
  gatewayOnly: readonly string[];
  /** A backend socket whose pending writes do not drain within this time is cut (slow_consumer). */
  drainTimeoutMs: number;
  /** A backend socket's write buffer before write() reports backpressure (see guardBackendSocket). */
  writeBufferBytes: number;
  /**
   * Sees every publish that passed the ACL, before the broker acks it to the
   * publisher (the hook for commands, which must be on disk before the PUBACK).
   * The PUBACK waits for the returned promise; a rejection refuses the publish: no
   * PUBACK, the connection is closed.
   */
  onAuthorizedPublish(topic: string, payload: Buffer): Promise<void>;
  counters: Counters;
  tally: Tally;
  /**
   * Where aedes keeps sessions, queues, retained messages and wills: the data dir's store
   * (persistence/sqlite-persistence.ts) or, in a cluster, aedes-persistence-redis.
   */
  persistence: { destroy(): Promise<void> };
  /** The message bus between brokers: mqemitter-redis in a cluster; aedes' in-process one otherwise. */
  mq?: unknown;
  log: Logger;
}

export interface EmbeddedBroker {
  aedes: Aedes;
  /** Opens the MQTT (and MQTTS) listeners; until then no backend can reach the broker. */
  listen(): Promise<{ mqtt: string; mqtts?: string }>;
  /** Disconnects every live MQTT session of a user (after `users remove`). */
  disconnectUser(name: string): void;
  close(): Promise<void>;
}

const MQ_CONCURRENCY = 65_536;

// MQTT 3.1.1 CONNACK return codes [MQTT-3.2.2.3].
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** Aedes with our user store behind CONNECT, PUBLISH and SUBSCRIBE; anonymous clients are refused. */
export async function createEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { checkLogin, gatewayOnly, counters, tally, log } = options;
  const userOf = new WeakMap<Client, BackendUser>();
  const sessions = new Map<string, Set<Client>>();

  const aedes = await Aedes.createBroker({
    persistence: options.persistence,
    ...(options.mq !== undefined && { mq: options.mq }),
    // Backend tools (Node-RED, MQTT Explorer) use client ids longer than the 3.1.1 minimum of 23.
    maxClientsIdLength: 256,
    // Past `concurrency` deliveries in progress, mqemitter queues publishes in an array it
    // drains with Array#shift, which is O(n) on a long queue: at aedes' default of 100 that
    // was a fifth of the gateway's CPU under load (bench/, saturation). The gateway bounds
    // in-flight publishes itself (limits.maxInFlight per connection, limits.maxInFlightTotal
    // in all; past either it stops reading sockets), and a slow subscriber still holds each
    // publish's callback until its socket drains, so acks still wait for every subscriber
    // and nothing is dropped.
    concurrency: MQ_CONCURRENCY,
    authenticate(client, username, password, done) {
      if (username === undefined || password === undefined) {
        tally.mqttAuthFailures++;
        log.warn('mqtt connect refused', { code: 'unauthorized', reason: 'anonymous', clientId: client.id });
        return done(authError('anonymous MQTT is not allowed', NOT_AUTHORIZED), false);
      }
      // Net sockets have remoteAddress; aedes also accepts other duplex streams.
      const remote = (client.conn as { remoteAddress?: string }).remoteAddress;
      const attempt = { address: addressKey(remote), name: username, password: password.toString('utf8'), gone: () => client.closed };
      checkLogin(attempt).then(
        (result) => {
          if (result.ok) {
            log.debug('mqtt connect accepted', { user: username, clientId: client.id, remote, cached: result.value.cached });
            userOf.set(client, result.value.user);
            return done(null, true);
          }
          const { code, message } = result.error;
          // A client that hung up while waiting was not refused; aedes drops the answer.
          if (!client.closed) {
            tally.mqttAuthFailures++;
            const load = code === 'auth_busy' ? checkLogin.load() : undefined;
            log.warn('mqtt connect refused', { code, user: username, clientId: client.id, remote, ...load });
          }
          done(authError(message, code === 'unauthorized' ? BAD_USERNAME_OR_PASSWORD : SERVER_UNAVAILABLE), false);
        },
        (err: Error) => {
          // After aedes.close() a check still running finds the store closed; nobody waits for it.
          if (!client.closed) log.error('mqtt authentication failed', { code: 'internal_error', error: err.message });
          done(authError('authentication unavailable', SERVER_UNAVAILABLE), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      const user = client ? userOf.get(client) : undefined;
      if (mayPublish(user, packet.topic, gatewayOnly)) {
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        options.onAuthorizedPublish(packet.topic, payload).then(
          () => done(null),
          (err: Error) => {
            // A PUBACK here would tell the backend a command was stored that never was.
            log.error('publish hook failed; refusing the publish', { code: 'internal_error', topic: packet.topic, error: err.stack });
            done(err);
          },
        );
        return;
      }
      // MQTT 3.1.1 cannot NACK a PUBLISH [MQTT-3.3.5-2]: aedes closes the connection.
      log.warn('mqtt publish refused', { code: 'publish_denied', user: user?.name, topic: packet.topic });
      done(new Error(`publish to ${packet.topic} is not allowed`));
    },
    authorizeSubscribe(client, subscription, done) {
      const user = userOf.get(client);
      if (maySubscribe(user, subscription.topic)) return done(null, subscription);
      log.warn('mqtt subscribe refused', { code: 'subscribe_denied', user: user?.name, topic: subscription.topic });
      done(null, null); // SUBACK 0x80 for this filter; the session stays up
    },
  });

  aedes.on('clientReady', (client) => {
    const name = userOf.get(client)?.name;
    if (!name) return;
    let set = sessions.get(name);
    if (!set) sessions.set(name, (set = new Set()));
    set.add(client);
  });
  aedes.on('clientDisconnect', (client) => {
    const name = userOf.get(client)?.name;
    const set = name === undefined ? undefined : sessions.get(name);
    if (!set) return;
    set.delete(client);
    if (set.size === 0) sessions.delete(name!);
  });
  // aedes emits 'error' for persistence failures (its types leave it out); unheard, it would end the process.
  (aedes as unknown as EventEmitter).on('error', (err: Error) => log.error('broker error', { code: 'internal_error', error: err.stack }));
  aedes.on('clientError', (client, err) => log.debug('mqtt client error', { clientId: client.id, error: err.message }));
  const guard = (socket: Socket) =>
    guardBackendSocket(socket, options, () => {
      counters.count('slow_consumer');
      log.warn('backend does not read its socket; disconnecting', {
        code: 'slow_consumer',
        remote: `${socket.remoteAddress}:${socket.remotePort}`,
        bufferedBytes: socket.writableLength,
      });
    });

  const servers: Server[] = [];
  async function listenAll(): Promise<{ mqtt: string; mqtts?: string }> {
    const tcp = createTcpServer({ noDelay: true }, (socket) => aedes.handle(guard(socket)));
    servers.push(tcp);
    const address: { mqtt: string; mqtts?: string } = { mqtt: `mqtt://${await listen(tcp, { host: options.host, port: options.port, name: 'MQTT (mqtt.port, --mqtt-port)' })}` };
    if (options.tlsPort !== null && options.tls) {
      const tls = createTlsServer(options.tls, (socket) => {
        socket.setNoDelay(true);
        aedes.handle(guard(socket));
      });
      servers.push(tls);
      address.mqtts = `mqtts://${await listen(tls, { host: options.host, port: options.tlsPort, name: 'MQTTS (mqtt.tlsPort)' })}`;
    }
    return address;
  }

  return {
    aedes,
    listen: listenAll,
    disconnectUser(name) {
      for (const client of sessions.get(name) ?? []) client.close();
      sessions.delete(name);
    },
    async close() {
      // server.close() waits for open connections, which only aedes.close() ends.
      const stopped = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await stopped;
      await options.persistence.destroy();
    },
  };
}

/**
 * Holds a backend socket's writes until the end of the event-loop turn. mqtt-packet corks
 * only until the next tick, which comes after every device frame, so a subscriber got one
 * writev per device frame; per turn, one writev carries every publish the turn produced.
 * Backpressure is reported past `writeBufferBytes`, not the stream's 16 KiB: a turn's
 * corked output passed 16 KiB, so nearly every delivery waited for 'drain' and held its
 * message, and the device's ack, in memory meanwhile (bench/, docs/performance.md). Past
 * the bound the stream's own write has returned false too, so 'drain' does come.
 * That wait is bounded: a socket that has not drained `drainTimeoutMs` after a write
 * reported backpressure is destroyed, which releases every delivery waiting on it, so
 * one backend that stops reading cannot stall the devices' acks for everyone.
 */
function guardBackendSocket<S extends Socket>(socket: S, limits: { drainTimeoutMs: number; writeBufferBytes: number }, onStalled: () => void): S {
  const write = socket.write;
  let corked = false;
  let stalled: NodeJS.Timeout | undefined;
  socket.on('drain', () => {
    clearTimeout(stalled);
    stalled = undefined;
  });
  socket.once('close', () => clearTimeout(stalled));
  socket.write = function (this: S, ...args: Parameters<S['write']>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    const flowing = (write as (...a: unknown[]) => boolean).apply(this, args) || socket.writableLength < limits.writeBufferBytes;
    if (!flowing && stalled === undefined && !socket.destroyed) {
      stalled = setTimeout(() => {
        onStalled();
        socket.destroy();
      }, limits.drainTimeoutMs);
      stalled.unref();
    }
    return flowing;
  } as S['write'];
  return socket;
}
