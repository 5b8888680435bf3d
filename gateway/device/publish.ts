import type { Aedes } from 'aedes';
import { publishJsonThen } from '../broker/publish.js';
import type { Topics } from '../topics.js';
import type { DeviceIdentity } from '../registry/devices.js';
import { epochMs } from './epoch-ms.js';
import type { DeviceMessage } from './validate.js';

/** A checked device message -> its MQTT topic; `done` runs once the broker has taken it. */
export function publishMessage(
  aedes: Aedes,
  topics: Topics,
  identity: DeviceIdentity,
  message: DeviceMessage,
  done: (err?: Error | null) => void,
): void {
  const receivedAt = Date.now();
  if (message.type === 'telemetry') {
    const payload = {
      device: identity.device,
      model: identity.model,
      id: message.id,
      // One clock format for consumers: ISO-8601 from the device becomes epoch ms; no ts means "now".
      ts: typeof message.ts === 'string' ? epochMs(message.ts) : (message.ts ?? receivedAt),
      receivedAt,
      data: message.data,
    };
    return publishJsonThen(aedes, topics.telemetry(identity.device), payload, false, done);
  }
  publishJsonThen(aedes, topics.state(identity.device), { device: identity.device, state: message.state, updatedAt: receivedAt }, true, done);
}
