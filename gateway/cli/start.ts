import { startGateway } from '../server.js';
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
    const gateway = await startGateway(config);
    const { ws, mqtt, http, mqtts } = gateway.addresses;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(gateway.addresses)}\n`);
    } else {
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
    const stop = () => {
      gateway.close().then(
        () => process.exit(0),
        (err: unknown) => exitOnError(err),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    exitOnError(err);
  }
}
