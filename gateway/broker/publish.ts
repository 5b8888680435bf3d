import type { Aedes } from 'aedes';

/**
 * Publishes one QoS 1 message from the gateway itself. Resolves once aedes has
 * taken it (stored if retained, handed to every matching subscription), which
 * is the point after which the gateway acks the device.
 */
export function publishJson(aedes: Aedes, topic: string, payload: unknown, retain = false): Promise<void> {
  return new Promise((resolve, reject) => {
    aedes.publish(
      { cmd: 'publish', topic, payload: Buffer.from(JSON.stringify(payload)), qos: 1, retain, dup: false },
      (err?: Error) => (err ? reject(err) : resolve()),
    );
  });
}
