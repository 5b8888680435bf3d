import { createSecureContext, type SecureContext } from 'node:tls';
import WebSocket, { type ClientOptions } from 'ws';
import { CONNACK, connectPacket, nextPacket, PUBACK, publishPacket } from './mqtt-packets.js';
import { messageId, publishedReading, telemetryFrame } from './reading.js';
import type { BenchDevice, Target } from './task.js';

export interface DeviceEvents {
  /** The system took message `seq` (ack frame, PUBACK). */
  onAck(device: number, seq: number): void;
  /** The system refused message `seq` with an error code (ours: rate_limited...). */
  onRefused(device: number, seq: number, code: string): void;
  /** A command frame arrived (ours only); the client has already answered it. */
  onCommand?(device: number, id: string): void;
}

export interface DeviceClient {
  readonly index: number;
  send(seq: number): void;
  /** Bytes waiting in the client's socket: open-loop senders back off on it. */
  readonly buffered: number;
  close(): void;
}

export interface ConnectFailure {
  /** WebSocket close code, or 'error:<message>' when the socket never opened. */
  reason: string;
}

/** Connects one simulated device and resolves once the system has admitted it (welcome, CONNACK, open). */
export function connectDevice(target: Target, index: number, events: DeviceEvents): Promise<DeviceClient> {
  const device = target.devices[index];
  if (!device) throw new Error(`no device #${index} in target`);
  switch (target.driver) {
    case 'gateway':
      return connectGatewayDevice(target, device, index, events);
    case 'ws-ack':
    case 'ws-fire':
      return connectPlainDevice(target, device, index, events);
    case 'mqtt-ws':
      return connectMqttDevice(target, device, index, events);
  }
}

function connectGatewayDevice(target: Target, device: BenchDevice, index: number, events: DeviceEvents): Promise<DeviceClient> {
  return new Promise((resolve, reject) => {
    // ws hands these to tls.connect, which takes a secureContext; its types do not list it.
    const options: ClientOptions & { secureContext?: SecureContext } = {
      headers: { authorization: `Bearer ${device.token}` },
      secureContext: secureContextFor(target.ca),
      perMessageDeflate: false,
    };
    const ws = new WebSocket(target.deviceUrl, options);
    const client: DeviceClient = {
      index,
      send: (seq) => ws.send(telemetryFrame(messageId(seq), Date.now(), seq)),
      get buffered() {
        return ws.bufferedAmount;
      },
      close: () => ws.terminate(),
    };
    let welcomed = false;
    ws.on('message', (raw: Buffer) => {
      const frame = JSON.parse(raw.toString()) as { type: string; id?: string; code?: string };
      if (frame.type === 'ack') return events.onAck(index, seqOf(frame.id!));
      if (frame.type === 'error' && frame.id !== undefined) return events.onRefused(index, seqOf(frame.id), frame.code ?? 'error');
      if (frame.type === 'command') {
        ws.send(`{"type":"command_result","id":"${frame.id}","ok":true}`);
        return events.onCommand?.(index, frame.id!);
      }
      if (frame.type === 'welcome') {
        welcomed = true;
        resolve(client);
      }
    });
    ws.on('error', () => {}); // the close event carries the outcome
    ws.on('close', (code) => {
      if (!welcomed) reject(Object.assign(new Error(`closed ${code}`), { reason: String(code) }));
    });
  });
}

function connectPlainDevice(target: Target, device: BenchDevice, index: number, events: DeviceEvents): Promise<DeviceClient> {
  return new Promise((resolve, reject) => {
    const options: ClientOptions & { secureContext?: SecureContext } = { perMessageDeflate: false, secureContext: secureContextFor(target.ca) };
    const ws = new WebSocket(target.deviceUrl, options);
    ws.on('open', () =>
      resolve({
        index,
        send: (seq) => ws.send(publishedReading(device.id, messageId(seq), Date.now(), seq)),
        get buffered() {
          return ws.bufferedAmount;
        },
        close: () => ws.terminate(),
      }),
    );
    // The ceiling answers with the bare id it parsed.
    ws.on('message', (raw: Buffer) => events.onAck(index, seqOf(raw.toString())));
    ws.on('error', (err) => reject(Object.assign(err, { reason: `error:${err.message}` })));
  });
}

/**
 * MQTT 3.1.1 over WebSocket, one packet per ws message, QoS 1. Hand-built packets rather
 * than 200 mqtt.js clients: mqtt.js made the load generator, not the broker, the limit.
 */
function connectMqttDevice(target: Target, device: BenchDevice, index: number, events: DeviceEvents): Promise<DeviceClient> {
  return new Promise((resolve, reject) => {
    const options: ClientOptions & { secureContext?: SecureContext } = { perMessageDeflate: false, secureContext: secureContextFor(target.ca) };
    const ws = new WebSocket(target.deviceUrl, ['mqtt'], options);
    const topic = `devices/${device.id}/telemetry`;
    // Packet id -> seq; ids cycle through 1..65535, far more than a device keeps in flight.
    const seqOfPacket = new Float64Array(65536);
    let pending: Buffer = Buffer.alloc(0);
    ws.on('open', () => ws.send(connectPacket(device.id, { url: target.deviceUrl })));
    ws.on('message', (data: Buffer) => {
      pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
      let offset = 0;
      for (let packet = nextPacket(pending, offset); packet; packet = nextPacket(pending, offset)) {
        offset = packet.end;
        const type = pending[packet.start]! >> 4;
        if (type === PUBACK) {
          events.onAck(index, seqOfPacket[pending.readUInt16BE(packet.body)]!);
        } else if (type === CONNACK) {
          if (pending[packet.body + 1] !== 0) return reject(Object.assign(new Error('CONNACK refused'), { reason: `connack:${pending[packet.body + 1]}` }));
          resolve({
            index,
            send(seq) {
              const packetId = (seq % 65535) + 1;
              seqOfPacket[packetId] = seq;
              ws.send(publishPacket(topic, packetId, publishedReading(device.id, messageId(seq), Date.now(), seq)));
            },
            get buffered() {
              return ws.bufferedAmount;
            },
            close: () => ws.terminate(),
          });
        }
      }
      pending = pending.subarray(offset);
    });
    ws.on('error', (err) => reject(Object.assign(err, { reason: `error:${err.message}` })));
  });
}

const contexts = new Map<string, SecureContext>();

// One context for all devices: building one per socket (parsing the CA each time)
// made the load generator, not the gateway, the slow side of the connection storm.
function secureContextFor(ca: string | undefined): SecureContext | undefined {
  if (ca === undefined) return undefined;
  let context = contexts.get(ca);
  if (!context) contexts.set(ca, (context = createSecureContext({ ca })));
  return context;
}

/** `m-000000042` -> 42 */
export function seqOf(id: string): number {
  return Number(id.slice(id.indexOf('-') + 1));
}
