import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { buildAsyncApi, readModelKinds } from './asyncapi/build-document.js';
import { createLoginCheck } from './broker/check-login.js';
import { createEmbeddedBroker } from './broker/embedded.js';
import { openClusterState } from './cluster/open-cluster-state.js';
import { startClusterFleet } from './cluster/cluster-fleet.js';
import { OrderedPublisher } from './broker/ordered-publisher.js';
import { CommandDelivery } from './command/deliver.js';
import { onBackendCommand } from './command/on-command.js';
import { compileCommandValidators } from './command/validate-command.js';
import type { GatewayConfig } from './config.js';
import { Counters } from './counters.js';
import { Fleet } from './dashboard/fleet.js';
import { RecentEvents } from './dashboard/recent-events.js';
import { admitDevice } from './device/admission.js';
import { DeviceBudgets } from './device/budgets.js';
import { handshake } from './device/handshake.js';
import { loadIssuerKeys } from './device/jwks.js';
import { jwtVerifier, type VerifyJwt } from './device/verify-jwt.js';
import { startHeartbeat } from './device/heartbeat.js';
import { InFlightGate } from './device/in-flight-gate.js';
import { startDeviceListener } from './device/listener.js';
import type { MessageContext } from './device/on-message.js';
import { DeviceSessions } from './device/sessions.js';
import { localFleet, type FleetView } from './device/local-fleet.js';
import type { Presence } from './device/presence.js';
import { compileValidators } from './device/validate.js';
import { FEED_TICK_MS, startHttpEndpoint } from './http/endpoint.js';
import { Closers } from './lifecycle.js';
import { createLogger, type Logger } from './log.js';
import { Tally } from './metrics/tally.js';
import { loadModels, SHIPPED_MODELS_DIR } from './models/load-models.js';
import { Readiness } from './readiness.js';
import { DeviceRegistry } from './registry/devices.js';
import { enforceRegistryChange } from './registry/enforce-changes.js';
import { UserRegistry } from './registry/users.js';
import { loadCertificate } from './tls/load-certificate.js';
import { openEmbeddedState } from './store/open-embedded-state.js';
import { topicsFor } from './topics.js';
import { DeviceTwins } from './twin/device-twins.js';
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

const SHUTDOWN_GRACE_MS = 2000;

/**
 * Wires the modules of the data path together; holds no logic of its own. Each step
 * that opens something registers its close; a step that throws closes what is open.
 * Devices are accepted last, once MQTT listens and everything they use is up.
 */
export async function startGateway(config: GatewayConfig, log: Logger = createLogger(config.log.level, undefined, config.log.format)): Promise<Gateway> {
  const modelsDir = config.models.dir ?? SHIPPED_MODELS_DIR;
  const models = loadModels(modelsDir);
  const validators = compileValidators(models);
  const commandValidators = compileCommandValidators(models, config.commands.maxTtlMs);
  const desiredValidators = compileDesiredValidators(models);
  const certificate = await loadCertificate(config, log);
  const closers = new Closers(log);
  try {
    const state = config.cluster.redis ? await openClusterState(config, log) : openEmbeddedState(config, log);
    closers.add(() => state.close());
    const modelNames = models.map((m) => m.name);
    const registry = new DeviceRegistry(state.devices, modelNames);
    let verifyJwt: VerifyJwt | undefined;
    if (config.auth.jwt) {
      const keys = loadIssuerKeys(config.auth.jwt, { timeoutMs: config.auth.timeoutMs, log });
      closers.add(() => keys.close());
      verifyJwt = jwtVerifier(config.auth.jwt, keys.key, { registry, models: modelNames });
    }
    const users = new UserRegistry(state.users);
    const topics = topicsFor(config.mqtt.topicRoot);
    const counters = new Counters();
    const tally = new Tally();
    const recent = new RecentEvents();
    const fleet = new Fleet(FEED_TICK_MS);
    const readiness = new Readiness(() => state.ping(), log);
    const checkLogin = createLoginCheck(users, { concurrency: config.mqtt.authConcurrency, queue: config.mqtt.authQueue });

    const broker = await createEmbeddedBroker({
      host: config.mqtt.host,
      port: config.mqtt.port,
      tlsPort: config.mqtt.tlsPort,
      tls: certificate,
      checkLogin,
      gatewayOnly: topics.gatewayOnly,
      ...state.broker,
      drainTimeoutMs: config.mqtt.drainTimeoutMs,
      writeBufferBytes: config.mqtt.writeBufferBytes,
      onAuthorizedPublish(topic, payload) {
        // Only called once the broker listens, after everything below is wired.
        const device = topics.commandTarget(topic);
        if (device !== undefined) return onBackendCommand(commandContext, device, payload);
        const desiredFor = topics.desiredTarget(topic);
        return desiredFor === undefined ? Promise.resolve() : twins.onDesiredSet(desiredFor, payload);
      },
      counters,
      tally,
      log,
    });
    closers.add(() => broker.close());
    closers.add(state.limitSessions(broker.aedes, counters));
    const events = new OrderedPublisher(broker.aedes, log);
    closers.add(() => events.stop());
    // Retained: a backend that subscribes later still learns each device's last presence.
    const publishPresence = (device: string, presence: Presence) => void events.publish(device, topics.presence(device), presence, true);
    const sessions = new DeviceSessions(config.devices.sessionPolicy, (device, presence, joined) => {
      fleet.presence(device, presence);
      fleetView.presenceChanged(device, presence, joined);
    });
    const fleetView: FleetView = state.cluster
      ? await startClusterFleet({ ...state.cluster, policy: config.devices.sessionPolicy, sessions, publishPresence, deliverPending: (device) => {
          twins.refresh(device);
          return delivery.deliverPending(device);
        }, log })
      : localFleet(sessions, publishPresence);
    closers.add(() => fleetView.close());
    const delivery = new CommandDelivery(
      state.commands,
      fleetView.route,
      (event) => {
        tally.commands[event.status]++;
        recent.command(event);
        return events.publish(event.device, topics.commandStatus(event.device, event.id), event);
      },
      { ...config.commands, dedupWindowMs: config.commands.maxTtlMs },
      log,
    );
    const twins = new DeviceTwins({
      store: state.twins,
      modelOf: async (device) => (await registry.get(device))?.model,
      validators: desiredValidators,
      topics,
      publish: (device, topic, payload, retain) => void events.publish(device, topic, payload, retain),
      connectionsOf: (device) => sessions.connectionsOf(device),
      // In a cluster, the node holding the device's newest connection is signalled; it refreshes.
      elsewhere: (device) => fleetView.route.queued(device),
      log,
    });
    const commandContext = { registry, validators: commandValidators, delivery, defaultTtlMs: config.commands.defaultTtlMs };
    const messages: MessageContext = {
      aedes: broker.aedes,
      topics,
      validators,
      commands: { validators: commandValidators, delivery },
      storeAvailable: state.available,
      counters,
      twins,
      tally,
      recent,
      log,
    };
    const budgets = new DeviceBudgets(config.limits);
    const inFlight = new InFlightGate(config.limits.maxInFlightTotal);

    const mqtt = await broker.listen();
    delivery.start();
    closers.add(() => delivery.stop());
    closers.add(state.watchChanges((change) => enforceRegistryChange(change, { registry, users, sessions, disconnectUser: broker.disconnectUser, log })));
    const http = await startHttpEndpoint({
      config,
      status: () => ({
        devices: sessions.deviceCount,
        connections: sessions.connectionCount,
        mqttClients: broker.aedes.connectedClients,
        ...state.health(),
        counters: counters.snapshot(),
      }),
      readiness,
      metrics: {
        tally,
        counters,
        deviceConnections: () => sessions.connectionCount,
        publishesInFlight: () => inFlight.inFlight,
        devicesOnline: () => sessions.deviceCount,
        mqttClients: () => broker.aedes.connectedClients,
        commandQueueDepth: () => state.commands.depth(),
        sessionQueueDropped: () => state.sessionQueueDropped(counters),
      },
      fleet,
      recent,
      asyncapi: buildAsyncApi(readModelKinds(modelsDir), topics, config.mqtt.topicRoot),
      checkLogin,
      closers,
      log,
    });
    closers.add(
      startHeartbeat(() => sessions.connections(), config.devices.heartbeatMs, {
        log,
        counters,
        afterTick: () => budgets.prune((device) => sessions.isConnected(device)),
      }),
    );
    // After the device listener closed (registered below, so closed first): the offline
    // presence of its devices is recorded before the publisher and the store stop.
    closers.add(() => fleetView.drain());

    const admission = { sessions, budgets, limits: config.limits, inFlight, heartbeatMs: config.devices.heartbeatMs, messages, delivery, twins, fleet, log };
    // Retained presence from before a crash says online; it is corrected before any device can connect.
    await state.correctStalePresence(broker.aedes, topics);
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
        handshake(ws, req, remote, { registry, verifyJwt, timeoutMs: config.auth.timeoutMs, tally, log }, (handshaken) =>
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
    readiness.ready();
    log.info('gateway listening', { ...addresses });
    let closing: Promise<void> | undefined;
    return {
      addresses,
      close() {
        // Not ready from the first moment of the drain, while the device sockets still close.
        readiness.drain();
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
