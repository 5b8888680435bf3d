import type { Aedes } from 'aedes';

/**
 * Publishes one QoS 1 message from the gateway itself. `done` runs once aedes has
 * taken it (stored if retained, handed to every matching subscription), which is
 * the point after which the gateway acks the device. A callback rather than a
 * promise on the device hot path: every message in flight waits here.
 */
export function publishJsonThen(aedes: Aedes, topic: string, payload: unknown, retain: boolean, done: (err?: Error | null) => void): void {
  aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain, dup: false }, done);
}

/** publishJsonThen as a promise, for the gateway's own, low-rate events. */
export function publishJson(aedes: Aedes, topic: string, payload: unknown, retain = false): Promise<void> {
  return new Promise((resolve, reject) => {
    publishJsonThen(aedes, topic, payload, retain, (err) => (err ? reject(err) : resolve()));
  });
}
