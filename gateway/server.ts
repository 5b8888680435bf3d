import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { createEmbeddedBroker } from './broker/embedded.js';
import { SqlitePersistence } from './broker/persistence/sqlite-persistence.js';
import { OrderedPublisher } from './broker/ordered-publisher.js';
import { CommandDelivery } from './command/deliver.js';
import { onBackendCommand } from './command/on-command.js';
import { SqliteCommandQueue } from './command/queue.js';
import { compileCommandValidators } from './command/validate-command.js';
import type { GatewayConfig } from './config.js';
import { DeviceConnection } from './device/connection.js';
import { correctPresence } from './device/correct-presence.js';
import { handshake } from './device/handshake.js';
import { startHeartbeat } from './device/heartbeat.js';
import { startDeviceListener } from './device/listener.js';
import { onDeviceMessage, type MessageContext } from './device/on-message.js';
import { DeviceSessions } from './device/sessions.js';
import { compileValidators } from './device/validate.js';
import { startHealthEndpoint } from './http/health.js';
import { fail } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { loadModels, SHIPPED_MODELS_DIR } from './models/load-models.js';
import { DeviceRegistry } from './registry/devices.js';
import { UserRegistry } from './registry/users.js';
import { watchRegistryChanges } from './registry/watch-changes.js';
import { startCheckpointer } from './store/checkpoint.js';
import { openStore } from './store/open-store.js';
import { loadCertificate } from './tls/load-certificate.js';
import { topicsFor } from './topics.js';

export interface GatewayAddresses {
  ws: string;
  mqtt: string;
  http: string;
  mqtts?: string;
}

export interface Gateway {
  addresses: GatewayAddresses;
  /** Publishes offline presence for every connected device, closes sockets with 1001, stops listening. */
  close(): Promise<void>;
}

const REGISTRY_POLL_MS = 250;
const SHUTDOWN_GRACE_MS = 2000;

/** Wires the modules of the data path together; holds no logic of its own. */
export async function startGateway(config: GatewayConfig, log: Logger = createLogger(config.log.level)): Promise<Gateway> {
  const models = loadModels(config.models.dir ?? SHIPPED_MODELS_DIR);
  const validators = compileValidators(models);
  const commandValidators = compileCommandValidators(models, config.commands.maxTtlMs);
  const certificate = await loadCertificate(config, log);
  const store = openStore(config.dataDir);
  const checkpointer = startCheckpointer(store, log);
  const registry = new DeviceRegistry(store, models.map((m) => m.name));
  const users = new UserRegistry(store);
  const topics = topicsFor(config.mqtt.topicRoot);

  const persistence = new SqlitePersistence(store, { ...config.mqtt, log });
  const broker = await createEmbeddedBroker({
    host: config.mqtt.host,
    port: config.mqtt.port,
    tlsPort: config.mqtt.tlsPort,
    tls: certificate,
    users,
    gatewayOnly: topics.gatewayOnly,
    persistence,
    onAuthorizedPublish(topic, payload) {
      const device = topics.commandTarget(topic);
      // Only called once the broker listens, after everything below is wired.
      if (device !== undefined) onBackendCommand(commandContext, device, payload);
    },
    log,
  });
  const events = new OrderedPublisher(broker.aedes, log);
  // Retained: a backend that subscribes later still learns each device's last presence.
  const sessions = new DeviceSessions(config.devices.sessionPolicy, config.limits, (device, presence) => {
    void events.publish(device, topics.presence(device), presence, true);
  });
  const connections = new Set<DeviceConnection>();
  const delivery = new CommandDelivery(
    new SqliteCommandQueue(store),
    { find: (device) => sessions.newest(device) },
    (event) => void events.publish(event.device, topics.commandStatus(event.device, event.id), event),
    { ...config.commands, dedupWindowMs: config.commands.maxTtlMs },
    log,
  );
  const commandContext = { registry, validators: commandValidators, delivery, defaultTtlMs: config.commands.defaultTtlMs };
  const ctx: MessageContext = { aedes: broker.aedes, topics, validators, commands: { validators: commandValidators, delivery }, log };

  function onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn = new DeviceConnection(ws, remoteOf(req, config.ws.tlsOffload), config.limits, req.socket);
    connections.add(conn);
    ws.on('pong', () => (conn.missedPongs = 0));
    ws.on('error', (err) => log.debug('device socket error', { device: conn.device, error: err.message }));
    ws.on('close', (code) => {
      connections.delete(conn);
      sessions.remove(conn);
      if (conn.device) log.info('device disconnected', { device: conn.device, closeCode: code });
    });
    handshake(conn, req, { registry, timeoutMs: config.auth.timeoutMs, log }, () => {
      const { device, model } = conn.identity!;
      if (!validators.has(model)) {
        // Provisioned with a model whose schemas were removed since: nothing it sends could be checked.
        log.error('device model has no schemas; closing', { code: 'internal_error', device, model });
        return conn.closeWith('internal_error');
      }
      for (const old of sessions.add(conn)) old.closeWith('replaced');
      ws.on('message', (raw: Buffer, isBinary: boolean) => {
        try {
          onDeviceMessage(ctx, conn, raw, isBinary);
        } catch (err) {
          log.error('device frame handling failed', { code: 'internal_error', device, error: (err as Error).stack });
          conn.sendError(fail('internal_error').error, undefined);
        }
      });
      conn.send({ type: 'welcome', device, model, heartbeatMs: config.devices.heartbeatMs, maxFrameBytes: config.limits.maxFrameBytes });
      log.info('device connected', { device, model, remote: conn.remote });
      delivery.deliverPending(device);
    });
  }

  await correctPresence(persistence, broker.aedes, topics, log);
  const listener = await startDeviceListener({
    host: config.ws.host,
    port: config.ws.port,
    backlog: config.ws.backlog,
    tls: certificate,
    maxFrameBytes: config.limits.maxFrameBytes,
    onConnection,
  });
  if (config.ws.tlsOffload) {
    log.warn('device listener serves plain ws:// (ws.tlsOffload): only a TLS-terminating proxy may reach it', { url: listener.url });
  }
  const stopHeartbeat = startHeartbeat(connections, config.devices.heartbeatMs);
  delivery.start();
  const stopWatching = watchRegistryChanges(store, REGISTRY_POLL_MS, (change) => {
    if (change.kind === 'user') {
      if (!users.exists(change.subject)) broker.disconnectUser(change.subject);
      return;
    }
    for (const conn of sessions.connectionsOf(change.subject)) {
      if (!registry.stillValid(change.subject, conn.identity!.tokenHash)) {
        log.info('device token revoked or rotated; closing', { code: 'unauthorized', device: change.subject });
        conn.closeWith('unauthorized');
      }
    }
  });
  const http = await startHealthEndpoint(config.http.host, config.http.port, () => ({
    devices: sessions.devices().length,
    connections: sessions.connectionCount,
    mqttClients: broker.aedes.connectedClients,
    mqttSessions: persistence.stats(),
  }));

  const mqtt = await broker.listen();
  const addresses: GatewayAddresses = { ws: listener.url, mqtt: mqtt.mqtt, http: http.url };
  if (mqtt.mqtts) addresses.mqtts = mqtt.mqtts;
  log.info('gateway listening', { ...addresses });

  let closing: Promise<void> | undefined;
  return {
    addresses,
    close() {
      closing ??= (async () => {
        stopHeartbeat();
        stopWatching();
        delivery.stop();
        for (const device of sessions.devices()) {
          void events.publish(device, topics.presence(device), { online: false, since: Date.now(), connections: 0 }, true);
        }
        await events.stop();
        for (const conn of connections) conn.closeWith('shutting_down');
        await listener.close(SHUTDOWN_GRACE_MS);
        await http.close();
        await broker.close();
        await checkpointer.stop();
        store.close();
        log.info('gateway stopped');
      })();
      return closing;
    },
  };
}

// Behind a TLS-terminating proxy every socket comes from the proxy. It appends the address
// it saw to X-Forwarded-For; entries before that one came from the client and prove nothing.
function remoteOf(req: IncomingMessage, behindProxy: boolean): string {
  const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  // Node joins repeated X-Forwarded-For headers with ', ', so this is one string.
  const forwarded = behindProxy ? (req.headers['x-forwarded-for'] as string | undefined) : undefined;
  const last = forwarded?.split(',').pop()?.trim();
  return last ? `${last} via ${peer}` : peer;
}
