import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../gateway/config.js';
import { createLogger } from '../../gateway/log.js';
import { DEV_CERT_FILE, DEV_KEY_FILE, loadCertificate } from '../../gateway/tls/load-certificate.js';

export interface DevCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's PEM: self-signed, so it is also the CA a device trusts. */
  ca: string;
}

/**
 * Our gateway's --dev certificate (self-signed EC P-256, SAN 127.0.0.1) written into `dir`,
 * so every TLS system in the bench serves the same kind of certificate as ours.
 */
export async function devCertificate(dir: string): Promise<DevCertificate> {
  await loadCertificate(loadConfig({ dataDir: dir, dev: true, log: { level: 'error' } }, 'bench'), createLogger('error'));
  const certFile = join(dir, DEV_CERT_FILE);
  return { certFile, keyFile: join(dir, DEV_KEY_FILE), ca: readFileSync(certFile, 'utf8') };
}
