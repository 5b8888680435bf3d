// docs/errors.md is the reference device authors and operators read: every code
// the gateway can emit has a row there, and every row names a real code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { JWT_REFUSALS } from '../gateway/device/verify-jwt.js';
import { ERRORS, closeCodeOf, type ErrorCode } from '../gateway/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = new Map(
  [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*([^|]*)\|/gm)].map((m) => [m[1]!, m[2]!.trim()]),
);

test('every error code has a row in docs/errors.md, and every row is a real code', () => {
  const codes = Object.keys(ERRORS).sort();
  const documented = [...rows.keys()].sort();
  assert.deepEqual(documented, codes);
});

test('the close code documented for each error is the one the gateway uses', () => {
  for (const code of Object.keys(ERRORS) as ErrorCode[]) {
    assert.equal(rows.get(code), String(closeCodeOf(code) ?? '—'), code);
  }
});

test('every JWT refusal reason has a row in docs/auth.md, and every row is a real reason', () => {
  const auth = readFileSync(new URL('../../docs/auth.md', import.meta.url), 'utf8');
  const table = auth.slice(auth.indexOf('## Refusal reasons'));
  const documented = [...table.matchAll(/^\|\s*`([a-z_]+)`\s*\|/gm)].map((m) => m[1]!);
  assert.deepEqual(documented.sort(), [...JWT_REFUSALS].sort());
});
