import type { JsonObject } from './twin-store.js';

/** A desired patch applied key by key: a value replaces the key's value, null deletes the key. */
export function applyPatch(current: JsonObject, patch: JsonObject): JsonObject {
  const next: JsonObject = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** The desired keys whose value the device has not reported (yet). */
export function deltaOf(desired: JsonObject, reported: JsonObject): JsonObject {
  const delta: JsonObject = {};
  for (const [key, value] of Object.entries(desired)) {
    if (!sameJson(value, reported[key])) delta[key] = value;
  }
  return delta;
}

// Structural equality of JSON values; object key order does not matter.
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && sameJson((a as JsonObject)[key], (b as JsonObject)[key]));
}
