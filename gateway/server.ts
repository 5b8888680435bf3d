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
import { Counters } from './counters.js';
import { admitDevice } from './device/admission.js';
import { correctPresence } from './device/correct-presence.js';
import { DeviceBudgets } from './device/budgets.js';
import { handshake } from './device/handshake.js';
import { loadIssuerKeys } from './device/jwks.js';
import { jwtVerifier, type VerifyJwt } from './device/verify-jwt.js';
import { startHeartbeat } from './device/heartbeat.js';
import { startDeviceListener } from './device/listener.js';
import type { MessageContext } from './device/on-message.js';
import { DeviceSessions } from './device/sessions.js';
import { compileValidators } from './device/validate.js';
import { startHealthEndpoint } from './http/health.js';
import { sdkScriptRoute } from './http/sdk-script.js';
import { Closers } from './lifecycle.js';
import { createLogger, type Logger } from './log.js';
import { loadModels, SHIPPED_MODELS_DIR } from './models/load-models.js';
import { DeviceRegistry } from './registry/devices.js';
import { enforceRegistryChange } from './registry/enforce-changes.js';
import { UserRegistry } from './registry/users.js';
import { watchRegistryChanges } from './registry/watch-changes.js';
import { startCheckpointer } from './store/checkpoint.js';
import { openStore } from './store/open-store.js';
import { loadCertificate } from './tls/load-certificate.js';
import { topicsFor } from './topics.js';
import { DeviceTwins } from './twin/device-twins.js';
import { SqliteTwinStore } from './twin/twin-store.js';
import { compileDesiredValidators } from './twin/validate-desired.js';

export interface GatewayAddresses {
  ws: string;
  mqtt: string;
  http: string;
  mqtts?: string;
}

export interface Gateway {
  addresses: GatewayAddresses;
  /** Closes device sockets with 1001 (their offline presence is published), then everything else, newest first. */
  close(): Promise<void>;
}

const REGISTRY_POLL_MS = 250;
const SHUTDOWN_GRACE_MS = 2000;

/**
 * Wires the modules of the data path together; holds no logic of its own. Each step
 * that opens something registers its close; a step that throws closes what is open.
 * Devices are accepted last, once MQTT listens and everything they use is up.
 */
export async function startGateway(config: GatewayConfig, log: Logger = createLogger(config.log.level)): Promise<Gateway> {
  const models = loadModels(config.models.dir ?? SHIPPED_MODELS_DIR);
  const validators = compileValidators(models);
  const commandValidators = compileCommandValidators(models, config.commands.maxTtlMs);
  const desiredValidators = compileDesiredValidators(models);
  const certificate = await loadCertificate(config, log);
  const closers = new Closers(log);
  try {
    const store = openStore(config.dataDir);
    closers.add(() => store.close());
    const checkpointer = startCheckpointer(store, log);
    closers.add(() => checkpointer.stop());
    const modelNames = models.map((m) => m.name);
    const registry = new DeviceRegistry(store, modelNames);
    let verifyJwt: VerifyJwt | undefined;
    if (config.auth.jwt) {
      const keys = loadIssuerKeys(config.auth.jwt, { timeoutMs: config.auth.timeoutMs, log });
      closers.add(() => keys.close());
      verifyJwt = jwtVerifier(config.auth.jwt, keys.key, { registry, models: modelNames });
    }
    const users = new UserRegistry(store);
    const topics = topicsFor(config.mqtt.topicRoot);
    const counters = new Counters();

    const persistence = new SqlitePersistence(store, { ...config.mqtt, log });
    const broker = await createEmbeddedBroker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      tlsPort: config.mqtt.tlsPort,
      tls: certificate,
      users,
      loginLimits: { concurrency: config.mqtt.authConcurrency, queue: config.mqtt.authQueue },
      gatewayOnly: topics.gatewayOnly,
      persistence,
      drainTimeoutMs: config.mqtt.drainTimeoutMs,
      onAuthorizedPublish(topic, payload) {
        // Only called once the broker listens, after everything below is wired.
        const device = topics.commandTarget(topic);
        if (device !== undefined) return onBackendCommand(commandContext, device, payload);
        const desiredFor = topics.desiredTarget(topic);
        if (desiredFor !== undefined) return twins.onDesiredSet(desiredFor, payload);
      },
      counters,
      log,
    });
    closers.add(() => broker.close());
    const events = new OrderedPublisher(broker.aedes, log);
    closers.add(() => events.stop());
    // Retained: a backend that subscribes later still learns each device's last presence.
    const sessions = new DeviceSessions(config.devices.sessionPolicy, (device, presence) => {
      void events.publish(device, topics.presence(device), presence, true);
    });
    const delivery = new CommandDelivery(
      new SqliteCommandQueue(store),
      { find: (device) => sessions.newest(device) },
      (event) => void events.publish(event.device, topics.commandStatus(event.device, event.id), event),
      { ...config.commands, dedupWindowMs: config.commands.maxTtlMs },
      log,
    );
    const twins = new DeviceTwins({
      store: new SqliteTwinStore(store),
      modelOf: (device) => registry.get(device)?.model,
      validators: desiredValidators,
      topics,
      publish: (device, topic, payload, retain) => void events.publish(device, topic, payload, retain),
      connectionsOf: (device) => sessions.connectionsOf(device),
      log,
    });
    const commandContext = { registry, validators: commandValidators, delivery, defaultTtlMs: config.commands.defaultTtlMs };
    const messages: MessageContext = { aedes: broker.aedes, topics, validators, commands: { validators: commandValidators, delivery }, counters, twins, log };
    const budgets = new DeviceBudgets(config.limits);

    const mqtt = await broker.listen();
    delivery.start();
    closers.add(() => delivery.stop());
    closers.add(
      watchRegistryChanges(store, REGISTRY_POLL_MS, log, (change) =>
        enforceRegistryChange(change, { registry, users, sessions, disconnectUser: broker.disconnectUser, log }),
      ),
    );
    const http = await startHealthEndpoint(config.http.host, config.http.port, () => ({
      devices: sessions.devices().length,
      connections: sessions.connectionCount,
      mqttClients: broker.aedes.connectedClients,
      mqttSessions: persistence.stats(),
      counters: counters.snapshot(),
    }), [sdkScriptRoute()]);
    closers.add(() => http.close());
    closers.add(
      startHeartbeat(() => sessions.connections(), config.devices.heartbeatMs, {
        log,
        counters,
        afterTick: () => budgets.prune((device) => sessions.isConnected(device)),
      }),
    );

    const admission = { sessions, budgets, limits: config.limits, heartbeatMs: config.devices.heartbeatMs, messages, delivery, twins, log };
    // Retained presence from before a crash says online; it is corrected before any device can connect.
    await correctPresence(persistence, broker.aedes, topics, log);
    const listener = await startDeviceListener({
      host: config.ws.host,
      port: config.ws.port,
      backlog: config.ws.backlog,
      tls: certificate,
      maxFrameBytes: config.limits.maxFrameBytes,
      handshakeTimeoutMs: config.auth.timeoutMs,
      maxPendingHandshakes: config.limits.maxPendingHandshakes,
      onHandshakeRefused: (code) => counters.count(code),
      onConnection(ws: WebSocket, req: IncomingMessage) {
        const remote = remoteOf(req, config.ws.tlsOffload);
        ws.on('error', (err) => log.debug('device socket error', { remote, error: err.message }));
        handshake(ws, req, remote, { registry, verifyJwt, timeoutMs: config.auth.timeoutMs, log }, (handshaken) =>
          admitDevice(ws, req.socket, remote, handshaken, admission),
        );
      },
    });
    closers.add(() => listener.close(SHUTDOWN_GRACE_MS));
    if (config.ws.tlsOffload) {
      log.warn('device listener serves plain ws:// (ws.tlsOffload): only a TLS-terminating proxy may reach it', { url: listener.url });
    }

    const addresses: GatewayAddresses = { ws: listener.url, mqtt: mqtt.mqtt, http: http.url };
    if (mqtt.mqtts) addresses.mqtts = mqtt.mqtts;
    log.info('gateway listening', { ...addresses });
    let closing: Promise<void> | undefined;
    return {
      addresses,
      close() {
        closing ??= closers.closeAll().then(() => log.info('gateway stopped'));
        return closing;
      },
    };
  } catch (err) {
    await closers.closeAll();
    throw err;
  }
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
