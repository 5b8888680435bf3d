import type { Readiness } from '../readiness.js';
import { sendJson, type Handler } from './listener.js';

/** GET /healthz, the liveness probe: 200 with live counts while the process serves HTTP. */
export const healthz =
  (status: () => object): Handler =>
  (_req, res) =>
    sendJson(res, 200, { status: 'ok', ...status() });

/** GET /readyz: 200 when ready, 503 while starting, draining or when the store does not answer. */
export const readyz =
  (readiness: Readiness): Handler =>
  async (_req, res) => {
    const { ready, state } = await readiness.check();
    sendJson(res, ready ? 200 : 503, { status: state });
  };
