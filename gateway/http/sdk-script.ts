import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Handler } from './listener.js';

/** The browser build of the device SDK (npm run build: dist/gateway/http -> dist/browser/device.js). */
export const SDK_BUNDLE_FILE = fileURLToPath(new URL('../../browser/device.js', import.meta.url));

/**
 * GET /sdk/device.js: the single-file ESM device SDK, for pages that import it
 * from the gateway. Read once at start; a checkout built without it (tsc only)
 * answers 404 with what to run. Any origin may load it: it holds no secret.
 */
export function sdkScript(file = SDK_BUNDLE_FILE): Handler {
  let script: Buffer | undefined;
  try {
    script = readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return (_req, res) => {
    if (!script) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`The device SDK bundle ${file} is not built; run npm run build\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'content-length': script.length,
      'access-control-allow-origin': '*',
      'cache-control': 'no-cache',
    });
    res.end(script);
  };
}
