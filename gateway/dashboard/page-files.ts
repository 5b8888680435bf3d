import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Handler } from '../http/listener.js';

/** The page's files ship as they are in the package (no build step, no CDN): dist/gateway/dashboard -> <package>/gateway/dashboard/page. */
export const PAGE_DIR = fileURLToPath(new URL('../../../gateway/dashboard/page/', import.meta.url));

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/** Serves one file of the page, read once at start. */
export function pageFile(name: string): Handler {
  const body = readFileSync(`${PAGE_DIR}${name}`);
  const type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  return (_req, res) => {
    res.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-cache',
      'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'",
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  };
}
