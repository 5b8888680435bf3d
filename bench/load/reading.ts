/**
 * The one message shape every system carries: an env-sensor reading.
 * Our devices send the telemetry frame; the MQTT and WebSocket peers send what
 * our gateway would publish for it (~150 bytes), so the subscriber sees the same size everywhere.
 */

export function telemetryFrame(id: string, ts: number, seq: number): string {
  return `{"type":"telemetry","id":"${id}","ts":${ts},"data":{"temperature":${temperature(seq)},"humidity":${humidity(seq)},"battery":97}}`;
}

export function publishedReading(device: string, id: string, ts: number, seq: number): string {
  return `{"device":"${device}","model":"env-sensor","id":"${id}","ts":${ts},"receivedAt":${ts},"data":{"temperature":${temperature(seq)},"humidity":${humidity(seq)},"battery":97}}`;
}

export function messageId(seq: number): string {
  return `m-${String(seq).padStart(9, '0')}`;
}

const temperature = (seq: number): number => 18 + (seq % 700) / 100;
const humidity = (seq: number): number => 35 + (seq % 1500) / 100;
