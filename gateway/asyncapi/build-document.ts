import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_RESULT_SCHEMA } from '../command/validate-command.js';
import { stateFrameSchema, telemetryFrameSchema } from '../device/validate.js';
import { DEVICE_PATH } from '../device/listener.js';
import { listModelNames } from '../models/load-models.js';
import type { Topics } from '../topics.js';
import { ACK_FRAME, commandFrame, DESIRED_FRAME, ERROR_FRAME, HELLO_FRAME, WELCOME_FRAME } from './payloads.js';
import { NOT_TOPICS, TOPIC_CATALOG } from './topic-catalog.js';

/** A model folder's schemas by kind: `<kind>.schema.json` -> kind. */
export interface ModelKinds {
  name: string;
  schemas: Record<string, object>;
}

const PACKAGE = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string; description: string };

/** Every schema file of every model: a kind added to the folders is in the document without code. */
export function readModelKinds(dir: string): ModelKinds[] {
  return listModelNames(dir).map((name) => {
    const schemas: Record<string, object> = {};
    for (const file of readdirSync(join(dir, name)).filter((f) => f.endsWith('.schema.json')).sort()) {
      const { $schema: _draft, $id: _id, ...schema } = JSON.parse(readFileSync(join(dir, name, file), 'utf8')) as Record<string, unknown>;
      schemas[file.slice(0, -'.schema.json'.length)] = schema;
    }
    return { name, schemas };
  });
}

type Messages = Record<string, object>;
const ref = (path: string) => ({ $ref: path });
const schemaRef = (model: string, kind: string) => ref(`#/components/schemas/${model}.${kind}`);
const message = (name: string, summary: string, payload: object) => ({ name, title: name, summary, contentType: 'application/json', payload });

/**
 * The AsyncAPI 3.0 document of the whole interface: the device WebSocket with every
 * frame in both directions (one message per model and kind), and every MQTT topic of
 * gateway/topics.ts with its payload, QoS and retain flag. Written from the gateway's
 * perspective: `receive` is what devices or backends send it.
 */
export function buildAsyncApi(models: readonly ModelKinds[], topics: Topics, root = 'devices'): object {
  const perModel = (kind: string, build: (model: string) => [string, object]): Messages =>
    Object.fromEntries(models.filter((m) => m.schemas[kind]).map((m) => build(m.name)));

  const fromDevice: Messages = {
    hello: message('hello', 'First frame of a browser without the Authorization header', HELLO_FRAME),
    ...perModel('telemetry', (m) => [`telemetry.${m}`, message('telemetry', `A reading of a ${m}`, telemetryFrameSchema(schemaRef(m, 'telemetry')))]),
    ...perModel('state', (m) => [`state.${m}`, message('state', `The reported state of a ${m}`, stateFrameSchema(schemaRef(m, 'state')))]),
    command_result: message('command_result', "The device's answer to a command", COMMAND_RESULT_SCHEMA),
  };
  const toDevice: Messages = {
    welcome: message('welcome', 'Sent once the device is authenticated', WELCOME_FRAME),
    ack: message('ack', 'The broker took the message', ACK_FRAME),
    error: message('error', 'The frame was not accepted', ERROR_FRAME),
    ...perModel('commands', (m) => [`command.${m}`, message('command', `A command for a ${m}`, commandFrame(schemaRef(m, 'commands')))]),
    desired: message('desired', "The device's desired state (the twin)", DESIRED_FRAME),
  };

  const channels: Record<string, object> = {
    device: {
      address: DEVICE_PATH,
      title: 'Device WebSocket',
      description: 'One JSON object per text frame. Authenticate with Authorization: Bearer TOKEN on the upgrade, or a first hello frame.',
      servers: [ref('#/servers/devices')],
      messages: { ...fromDevice, ...toDevice },
      bindings: { ws: { method: 'GET', bindingVersion: '0.1.0' } },
    },
  };
  const operations: Record<string, object> = {};
  const deviceOperation = (action: 'send' | 'receive', key: string, name: string) => {
    const keys = Object.keys(action === 'receive' ? fromDevice : toDevice).filter((k) => k === name || k.startsWith(`${name}.`));
    operations[`${action}${pascal(name)}Frame`] = {
      action,
      channel: ref('#/channels/device'),
      summary: key,
      messages: keys.map((k) => ref(`#/channels/device/messages/${k}`)),
    };
  };
  for (const name of ['hello', 'telemetry', 'state', 'command_result']) deviceOperation('receive', `Device sends ${name}`, name);
  for (const name of ['welcome', 'ack', 'error', 'command', 'desired']) deviceOperation('send', `Gateway sends ${name}`, name);

  for (const [member, value] of Object.entries(topics)) {
    if (NOT_TOPICS.has(member)) continue;
    const topic = TOPIC_CATALOG[member as keyof Topics];
    if (!topic) throw new Error(`gateway/topics.ts has ${member}, which gateway/asyncapi/topic-catalog.ts does not describe`);
    const address = topic.address ? topic.address(root) : (value as (device: string, command: string) => string)('{deviceId}', '{commandId}');
    const messages: Messages = topic.perModel
      ? perModel(topic.perModel.kind, (m) => [m, message(member, `${topic.summary} (${m})`, topic.perModel!.payload(schemaRef(m, topic.perModel!.kind)))])
      : { [member]: message(member, topic.summary, topic.payload!) };
    channels[member] = {
      address,
      title: address,
      servers: [ref('#/servers/mqtt')],
      parameters: Object.fromEntries([...address.matchAll(/\{(\w+)\}/g)].map((m) => [m[1]!, { description: `the ${m[1]}` }])),
      messages,
    };
    operations[`${topic.action}${pascal(member)}`] = {
      action: topic.action,
      channel: ref(`#/channels/${member}`),
      summary: topic.summary,
      messages: Object.keys(messages).map((k) => ref(`#/channels/${member}/messages/${k}`)),
      bindings: { mqtt: { qos: 1, retain: topic.retain, bindingVersion: '0.2.0' } },
    };
  }

  const schemas = Object.fromEntries(models.flatMap((m) => Object.entries(m.schemas).map(([kind, schema]) => [`${m.name}.${kind}`, schema])));
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'ws-mqtt-gateway',
      version: PACKAGE.version,
      description: `${PACKAGE.description}. Generated by npm run asyncapi from schemas/ and gateway/topics.ts; do not edit by hand.`,
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      devices: { host: 'localhost:8443', protocol: 'wss', description: 'Device endpoint (ws.host, ws.port)' },
      mqtt: { host: 'localhost:1883', protocol: 'mqtt', description: 'Embedded MQTT broker for backends (mqtt.host, mqtt.port); all gateway publishes are QoS 1' },
    },
    channels,
    operations,
    components: { schemas },
  };
}

const pascal = (name: string) => name.replace(/(^|_|\.)(\w)/g, (_m, _sep, c: string) => c.toUpperCase());

