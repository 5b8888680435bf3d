#!/usr/bin/env node
// npm run asyncapi: writes docs/asyncapi.yaml (test/asyncapi.test.ts fails when it is stale).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { shippedAsyncApiYaml } from '../gateway/asyncapi/render-yaml.js';

const target = fileURLToPath(new URL('../../docs/asyncapi.yaml', import.meta.url));
writeFileSync(target, shippedAsyncApiYaml());
process.stdout.write(`wrote ${target}\n`);
