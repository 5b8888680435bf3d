import type { IncomingMessage, ServerResponse } from 'node:http';
import { maySubscribe } from '../broker/authorize.js';
import type { LoginCheck } from '../broker/check-login.js';
import { addressKey } from '../broker/login-failures.js';
import type { Logger } from '../log.js';
import type { Handler } from './listener.js';

export type HttpAuthMode = 'auto' | 'always';

export interface HttpAuthOptions {
  mode: HttpAuthMode;
  /** The configured bind address (http.host). */
  host: string;
  /** The MQTT login check itself: same scrypt check, cache and guessing protection. */
  checkLogin: LoginCheck;
  topicRoot: string;
  log: Logger;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/;

export const isLoopbackHost = (host: string): boolean => LOOPBACK.test(host);

/**
 * Wraps the handlers that show the fleet (/metrics, the dashboard, its feed). On a
 * loopback listener with http.auth auto they are open (only this machine reaches
 * them); otherwise they need HTTP Basic auth of a backend user whose ACL may
 * subscribe to {topicRoot}/#, that is, who could see all of it over MQTT anyway.
 */
export function httpAuth(options: HttpAuthOptions): (handler: Handler) => Handler {
  if (options.mode === 'auto' && isLoopbackHost(options.host)) return (handler) => handler;
  const { checkLogin, log } = options;
  const everything = `${options.topicRoot}/#`;
  return (handler) => async (req, res) => {
    const credentials = basicCredentials(req);
    if (!credentials) return challenge(res);
    const remote = req.socket.remoteAddress;
    const result = await checkLogin({ address: addressKey(remote), ...credentials, gone: () => req.socket.destroyed });
    if (!result.ok) {
      const { code } = result.error;
      log.warn('http request refused', { code, user: credentials.name, remote, path: req.url });
      if (code === 'unauthorized') return challenge(res);
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '2' });
      return void res.end(`${code}: retry later\n`);
    }
    if (!maySubscribe(result.value.user, everything)) {
      log.warn('http request refused', { code: 'subscribe_denied', user: credentials.name, remote, path: req.url });
      res.writeHead(403, { 'content-type': 'text/plain' });
      return void res.end(`User ${credentials.name} may not subscribe to ${everything}\n`);
    }
    return handler(req, res);
  };
}

function basicCredentials(req: IncomingMessage): { name: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function challenge(res: ServerResponse): void {
  res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="ws-mqtt-gateway", charset="UTF-8"' });
  res.end('Authentication required: a backend MQTT user allowed to subscribe to the whole topic root\n');
}
