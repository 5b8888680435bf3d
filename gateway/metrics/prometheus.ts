import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Counters } from '../counters.js';
import type { ErrorCode } from '../errors.js';
import type { Tally } from './tally.js';

/** What /metrics reads at scrape time; nothing here runs per frame. */
export interface MetricSources {
  tally: Tally;
  counters: Counters;
  deviceConnections(): number;
  /** Device publishes not yet acked, gateway-wide (bounded by limits.maxInFlightTotal). */
  publishesInFlight(): number;
  devicesOnline(): number;
  mqttClients(): number;
  /** Undelivered commands in the queue; may ask the store. */
  commandQueueDepth(): Promise<number>;
  /** Messages dropped from persistent MQTT sessions at mqtt.maxSessionQueue. */
  sessionQueueDropped(): number;
}

const HANDSHAKE_REFUSALS: readonly ErrorCode[] = ['handshake_timeout', 'too_many_handshakes'];

/** The Prometheus registry behind GET /metrics (text format 0.0.4). */
export function createMetricsRegistry(sources: MetricSources): Registry {
  const register = new Registry();
  const registers = [register];
  const { tally, counters } = sources;
  collectDefaultMetrics({ register, prefix: 'wmg_' });

  const gauge = (name: string, help: string, read: () => number | Promise<number>) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.set(await read());
      },
    });
  // Counters are kept as plain numbers (tally.ts); each scrape copies them in.
  const counter = <L extends string>(name: string, help: string, labelName: L | undefined, read: () => Iterable<[string, number]>) =>
    new Counter({
      name,
      help,
      labelNames: labelName ? [labelName] : [],
      registers,
      collect() {
        this.reset();
        for (const [label, value] of read()) {
          if (labelName) this.inc({ [labelName]: label } as Record<L, string>, value);
          else this.inc(value);
        }
      },
    });
  const one = (value: () => number) => () => [['', value()] as [string, number]];

  gauge('wmg_device_connections', 'Authenticated device WebSocket connections', sources.deviceConnections);
  gauge('wmg_device_publishes_in_flight', 'Device messages taken in and not yet acked or refused (limits.maxInFlightTotal bounds them)', sources.publishesInFlight);
  gauge('wmg_devices_online', 'Devices with at least one live connection', sources.devicesOnline);
  counter('wmg_device_auth_total', 'Device authentications by result', 'result', () => Object.entries(tally.deviceAuth));
  counter('wmg_frames_received_total', "Device frames by their type, or invalid when they did not parse", 'type', () => Object.entries(tally.framesReceived));
  counter('wmg_frames_refused_total', 'Device frames answered with an error, by code', 'code', () => tally.framesRefused.entries());
  counter('wmg_messages_published_total', 'Device messages the broker took (acked)', 'kind', () => Object.entries(tally.published));
  counter('wmg_deadletters_total', 'Refused frames published on gateway/deadletter/{id}', undefined, one(() => tally.deadLetters));
  counter('wmg_deadletters_suppressed_total', 'Refused frames past limits.deadLettersPerSec, not dead-lettered', undefined, one(() => counters.get('deadletters_suppressed')));
  counter('wmg_commands_total', 'Command status events by status', 'status', () => Object.entries(tally.commands));
  gauge('wmg_command_queue_depth', 'Commands accepted and not yet delivered', sources.commandQueueDepth);
  gauge('wmg_mqtt_clients', 'Connected MQTT clients', sources.mqttClients);
  counter('wmg_mqtt_auth_failures_total', 'Backend CONNECTs refused (bad credentials, anonymous, auth_busy, auth_throttled)', undefined, one(() => tally.mqttAuthFailures));
  counter('wmg_slow_consumer_disconnects_total', 'Devices and backends disconnected for not reading their socket (slow_consumer)', undefined, one(() => counters.get('slow_consumer')));
  counter('wmg_flooding_disconnects_total', 'Devices closed for sending refused frames past their refusal budget (flooding)', undefined, one(() => counters.get('flooding')));
  counter('wmg_handshakes_refused_total', 'Device sockets destroyed before their upgrade, by code', 'code', () =>
    HANDSHAKE_REFUSALS.map((code) => [code, counters.get(code)] as [string, number]),
  );
  counter('wmg_session_queue_dropped_total', 'Messages dropped from persistent MQTT sessions at mqtt.maxSessionQueue (session_queue_full)', undefined, one(sources.sessionQueueDropped));
  register.registerMetric(ackLatencyHistogram(tally) as unknown as Metric);
  return register;
}

interface ExportedValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

// prom-client's Histogram can only be fed by observe() (~140 ns and an allocation per
// ack); this exports the data path's own buckets in the shape its registry reads
// (name, help, type, values) at scrape time.
function ackLatencyHistogram(tally: Tally) {
  const name = 'wmg_ack_latency_seconds';
  const help = 'Time from a device frame received to its ack written';
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const { bounds, counts, sum, count } = tally.ackLatency;
      let cumulative = 0;
      const values: ExportedValue[] = bounds.map((bound, i) => {
        cumulative += counts[i]!;
        return { metricName: `${name}_bucket`, labels: { le: bound }, value: cumulative };
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: count });
      values.push({ metricName: `${name}_sum`, labels: {}, value: sum });
      values.push({ metricName: `${name}_count`, labels: {}, value: count });
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
  };
}
