// A dead letter carries the device's own frame to backends, so a secret the
// device put in it by mistake (a hello sent twice, a token in a telemetry field)
// would be published. These shapes are cut out here, on the dead-letter path
// itself, so no caller has to remember to.
const SECRET_SHAPES: readonly RegExp[] = [
  // Per-device tokens as `devices add` issues them: wmg_ and 43 base64url characters.
  /wmg_[A-Za-z0-9_-]{20,}/g,
  // JWTs: three base64url parts, the first two JSON objects (they start with eyJ).
  /eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g,
  // Any JSON string value under a key that names a secret, whatever its shape.
  /("(?:token|password|authorization|secret)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi,
];

export const REDACTED = '[redacted]';

export function redactSecrets(text: string): string {
  let out = text;
  for (const shape of SECRET_SHAPES) {
    out = out.replace(shape, (_match, key?: string) => (typeof key === 'string' ? `${key}"${REDACTED}"` : REDACTED));
  }
  return out;
}
