import { commandRequestSchema } from '../command/validate-command.js';
import type { Topics } from '../topics.js';
import {
  COMMAND_STATUS_PAYLOAD,
  DEAD_LETTER_PAYLOAD,
  DESIRED_SET_PAYLOAD,
  DESIRED_STATUS_PAYLOAD,
  PRESENCE_PAYLOAD,
  statePayload,
  telemetryPayload,
  TWIN_PAYLOAD,
} from './payloads.js';

/** How one member of gateway/topics.ts appears in the AsyncAPI document. */
export interface TopicDescription {
  /** send: the gateway publishes it; receive: backends publish it to the gateway. */
  action: 'send' | 'receive';
  retain: boolean;
  summary: string;
  /** For a member that parses topics instead of building one. */
  address?: (root: string) => string;
  /** One message per model, with the model's schema of this kind ({$ref} into components/schemas)... */
  perModel?: { kind: string; payload: (schema: object) => object };
  /** ...or one payload for all devices. */
  payload?: object;
}

// Every topic the gateway publishes or accepts. build-document.ts refuses a member of
// Topics that is missing here, so a new topic cannot be left out of the document.
export const TOPIC_CATALOG: Partial<Record<keyof Topics, TopicDescription>> = {
  telemetry: { action: 'send', retain: false, summary: 'Every accepted telemetry frame', perModel: { kind: 'telemetry', payload: telemetryPayload } },
  state: { action: 'send', retain: true, summary: "The device's last reported state", perModel: { kind: 'state', payload: statePayload } },
  presence: { action: 'send', retain: true, summary: 'Online/offline, on every connection change', payload: PRESENCE_PAYLOAD },
  deadLetter: { action: 'send', retain: false, summary: 'Every refused frame (bad_json, bad_frame, invalid_telemetry, invalid_state)', payload: DEAD_LETTER_PAYLOAD },
  commandStatus: { action: 'send', retain: false, summary: "Each step of a command's life, in order per device", payload: COMMAND_STATUS_PAYLOAD },
  commandTarget: {
    action: 'receive',
    retain: false,
    summary: 'Commands from backends; validated, queued and delivered to the device',
    address: (root) => `${root}/{deviceId}/commands`,
    // The bound on ttlMs is config (commands.maxTtlMs); the document states the schema's own limit.
    perModel: { kind: 'commands', payload: (schema) => ({ allOf: [commandRequestSchema(31_536_000_000), schema] }) },
  },
  desiredTarget: {
    action: 'receive',
    retain: false,
    summary: 'Desired state patches from backends; validated, versioned and stored in the twin',
    address: (root) => `${root}/{deviceId}/desired/set`,
    payload: DESIRED_SET_PAYLOAD,
  },
  desiredStatus: { action: 'send', retain: false, summary: 'The outcome of each desired state patch', payload: DESIRED_STATUS_PAYLOAD },
  twin: { action: 'send', retain: true, summary: 'Desired, reported and delta, on every change of either side', payload: TWIN_PAYLOAD },
};

/** Members of Topics that are not topics. */
export const NOT_TOPICS: ReadonlySet<string> = new Set(['gatewayOnly']);
