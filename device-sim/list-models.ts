import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// TODO(#5): use gateway/models/load-models.ts once it lands on main, so the
// simulator and the gateway agree on one list by construction.
/** Model names: the subdirectories of schemas/models/. */
export function listModels(schemasDir: string = modelsDir()): string[] {
  return readdirSync(schemasDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * schemas/models/ of this package. Found by walking up from this file, because
 * it runs both from dist/device-sim/ (built) and device-sim/ (sources).
 */
export function modelsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'schemas', 'models');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('schemas/models/ not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
