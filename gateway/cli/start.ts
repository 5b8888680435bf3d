import cluster from 'node:cluster';
import { ConfigError } from '../errors.js';
import { createLogger } from '../log.js';
import { parseWorkers, runWorkers, type WorkerMessage } from '../cluster/workers.js';
import { startGateway, type GatewayAddresses } from '../server.js';
import { loadCertificate } from '../tls/load-certificate.js';
import { resolveConfig, type CommonFlags } from './resolve-config.js';
import { exitOnError } from './output.js';

export interface StartFlags extends CommonFlags {
  host?: string;
  wsPort?: string;
  mqttPort?: string;
  httpPort?: string;
  dev?: boolean;
  tlsOffload?: boolean;
  json?: boolean;
  workers?: string;
}

const port = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));

export async function startCommand(flags: StartFlags): Promise<void> {
  try {
    const config = resolveConfig(flags, {
      dev: flags.dev || undefined,
      ws: { host: flags.host, port: port(flags.wsPort), tlsOffload: flags.tlsOffload || undefined },
      mqtt: { host: flags.host, port: port(flags.mqttPort) },
      http: { host: flags.host, port: port(flags.httpPort) },
    });
    const workers = parseWorkers(flags.workers);
    if (workers > 1 && !config.cluster.redis) {
      throw new ConfigError(`--workers ${workers} needs cluster.redis (env WMG_CLUSTER_REDIS): the workers share the fleet's state through Redis`);
    }
    let running: { addresses: GatewayAddresses; stop(): Promise<void> };
    if (workers > 1 && cluster.isPrimary) {
      const log = createLogger(config.log.level, undefined, config.log.format);
      // Made once here: workers creating the dev certificate at once would each write their own.
      await loadCertificate(config, log);
      running = await runWorkers(workers, log);
    } else {
      const gateway = await startGateway(config);
      running = { addresses: gateway.addresses, stop: () => gateway.close() };
      if (cluster.isWorker) process.send!({ type: 'listening', addresses: gateway.addresses } satisfies WorkerMessage);
    }
    if (!cluster.isWorker) printAddresses(running.addresses, flags.json === true);
    const stop = () => {
      running.stop().then(
        () => process.exit(0),
        (err: unknown) => exitOnError(err),
      );
    };
    process.once('SIGTERM', stop);
    // Ctrl-C reaches the whole process group: the primary alone decides, and stops its workers with SIGTERM.
    // A listener replaces Node's default of exiting at once.
    if (cluster.isWorker) process.on('SIGINT', () => undefined);
    else process.once('SIGINT', stop);
  } catch (err) {
    exitOnError(err);
  }
}

function printAddresses(addresses: GatewayAddresses, json: boolean): void {
  const { ws, mqtt, http, mqtts } = addresses;
  if (json) {
    process.stdout.write(`${JSON.stringify(addresses)}\n`);
    return;
  }
  process.stdout.write(
    [
      'ws-mqtt-gateway is running',
      ws.startsWith('wss:') ? `  devices (WSS)  ${ws}` : `  devices (WS)   ${ws}  (TLS terminated by your proxy)`,
      `  MQTT           ${mqtt}`,
      ...(mqtts ? [`  MQTTS          ${mqtts}`] : []),
      `  dashboard      ${http}/`,
      `  metrics        ${http}/metrics  (health ${http}/healthz, readiness ${http}/readyz)`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}
