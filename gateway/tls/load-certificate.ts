import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import type { GatewayConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';

export interface Certificate {
  cert: Buffer;
  key: Buffer;
}

export const DEV_CERT_FILE = 'dev-cert.pem';
export const DEV_KEY_FILE = 'dev-key.pem';

/**
 * The certificate of every TLS listener: the configured one, or with --dev a self-signed one
 * kept in the data dir (made on first run, reused after, so a device that pinned it keeps
 * working). Without either the gateway does not start, unless nothing of it serves TLS
 * (ws.tlsOffload without mqtt.tlsPort): then undefined.
 */
export async function loadCertificate(config: GatewayConfig, log: Logger): Promise<Certificate | undefined> {
  if (config.ws.tlsOffload && config.mqtt.tlsPort === null) return undefined;
  if (config.tls.cert && config.tls.key) {
    return { cert: readPem(config.tls.cert, 'tls.cert'), key: readPem(config.tls.key, 'tls.key') };
  }
  if (!config.dev) {
    throw new ConfigError(
      'TLS is required: set tls.cert and tls.key (PEM files), or pass --dev to create a self-signed certificate for local development',
    );
  }
  const certFile = join(config.dataDir, DEV_CERT_FILE);
  const keyFile = join(config.dataDir, DEV_KEY_FILE);
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const notAfterDate = new Date();
    notAfterDate.setFullYear(notAfterDate.getFullYear() + 1);
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
      ],
    });
    try {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(keyFile, pems.private, { mode: 0o600 });
      writeFileSync(certFile, pems.cert);
    } catch (err) {
      throw new ConfigError(`dataDir: cannot write the development certificate ${certFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    log.warn('created a self-signed development certificate; devices must trust it (device-sim: --insecure)', { cert: certFile });
  } else {
    log.warn('using the self-signed development certificate (--dev)', { cert: certFile });
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
