import fc from 'fast-check';
import { WebSocket } from 'ws';
import { loadModels, SHIPPED_MODELS_DIR } from '../../gateway/models/load-models.js';
import { subscribedBackend, type Received, type TestBackend } from '../helpers/backend.js';
import { compileSchemas } from '../helpers/compile-schemas.js';
import { openDevice, type Frame, type TestDevice } from '../helpers/device.js';
import { provision, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { checkPublications, duePublications, type DeviceTopics, type Due, type Validators } from './check-publications.js';
import { matchReplies, type Outcome, type SentFrame } from './check-replies.js';
import { FrameOracle } from './expect-reply.js';
import type { FramePlan, ModelSpec } from './frame-plans.js';
import { renderFrame } from './render-frame.js';
import { validValues } from './schema-arbitrary.js';

/**
 * Every gateway setting the fuzz run changes, in one place. The run sends tens
 * of thousands of frames a second, most of them refused, from three devices:
 * per-device budgets must not be what answers them, or the property would be
 * testing the limiter instead of the frame path. A new per-device limit (such
 * as a dead-letter budget, or closing a device that floods refused frames)
 * needs its override here.
 */
export const FUZZ_GATEWAY_OVERRIDES = {
  // Refused frames are most of the load: the refusal and dead-letter budgets that would
  // close or silence a real device sending them are lifted, so every frame is answered and recorded.
  limits: { messagesPerSec: 1_000_000, burst: 1_000_000, refusalsPerSec: 1_000_000, refusalBurst: 1_000_000, deadLettersPerSec: 1_000_000, maxInFlight: 4096 },
} as const;

// Deadlines for one batch, generous for a loaded 2-core machine. Publications are
// awaited only once every ack is in, and an ack means the broker has already
// handed the message to each subscription, so their wait can be shorter; it is
// also what each shrink step of a lost-publication failure costs.
const REPLY_DEADLINE_MS = 15_000;
const PUBLISH_DEADLINE_MS = 5_000;

interface FuzzDevice {
  id: string;
  model: ModelSpec;
  token: string;
  conn: TestDevice;
  validators: Validators;
  /** A valid telemetry frame sent last in each batch: the connection must still answer it. */
  sentinel: Record<string, unknown>;
}

export interface FuzzStats {
  frames: number;
  batches: number;
  bytes: number;
  largestFrame: number;
  binary: number;
  /** Replies to fuzzed frames by kind: 'ack' or the error code. */
  replies: Record<string, number>;
  /** Error replies that carried no id (the frame had no usable one). */
  withoutId: number;
}

/** A batch's report; any other error out of runBatch is a bug in the fuzz harness itself. */
export class BrokenInvariants extends Error {
  override name = 'BrokenInvariants';
}

/** The shipped models, as the frame generators and the oracle read them. */
export function shippedModels(): ModelSpec[] {
  return loadModels(SHIPPED_MODELS_DIR).map((m) => ({ name: m.name, telemetry: m.telemetry, state: m.state }) as ModelSpec);
}

/**
 * A real gateway on ephemeral ports, one authenticated device per shipped model
 * and a backend on the data and dead-letter topics; runs batches of fuzzed
 * frames through it and reports every broken invariant of the batch at once.
 */
export class FuzzSession {
  readonly stats: FuzzStats = { frames: 0, batches: 0, bytes: 0, largestFrame: 0, binary: 0, replies: {}, withoutId: 0 };
  readonly models: ModelSpec[];
  readonly #oracle: FrameOracle;
  readonly #devices = new Map<string, FuzzDevice>();
  /** Errors the gateway logged and exceptions nobody caught: each one breaks the batch it happened in. */
  readonly #faults: string[];
  readonly #onFault = (err: unknown): void => {
    this.#faults.push(`uncaught in the test process (the gateway runs in it): ${(err as Error)?.stack ?? String(err)}`);
  };
  #backend!: TestBackend;
  #maxFrameBytes = 0;
  /** A batch failed: its late replies and publications must not be blamed on the next one. */
  #dirty = false;

  private constructor(
    readonly gw: TestGateway,
    models: ModelSpec[],
    faults: string[],
  ) {
    this.models = models;
    this.#oracle = new FrameOracle(models);
    this.#faults = faults;
  }

  static async start(): Promise<FuzzSession> {
    const models = shippedModels();
    const faults: string[] = [];
    // The test gateway logs at level error: any line at all is a fault.
    const gw = await startTestGateway(FUZZ_GATEWAY_OVERRIDES, undefined, (line) => faults.push(`gateway logged an error: ${line.trim()}`));
    const session = new FuzzSession(gw, models, faults);
    process.on('uncaughtException', session.#onFault);
    process.on('unhandledRejection', session.#onFault);
    const telemetry = compileSchemas('telemetry');
    const state = compileSchemas('state');
    for (const model of models) {
      const id = `fuzz-${model.name}`;
      const [sentinelData] = fc.sample(validValues(model.telemetry, model.name), { seed: 1, numRuns: 1 });
      const token = await provision(gw, id, model.name);
      session.#devices.set(model.name, {
        id,
        model,
        token,
        conn: await session.#open(token),
        validators: { telemetry: telemetry.get(model.name)!, state: state.get(model.name)! },
        sentinel: { type: 'telemetry', data: sentinelData },
      });
    }
    session.#backend = await session.#subscribe();
    return session;
  }

  async #open(token: string): Promise<TestDevice> {
    const conn = await openDevice(this.gw, token);
    const welcome = await conn.nextFrame(5000);
    if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
    this.#maxFrameBytes = welcome.maxFrameBytes as number;
    return conn;
  }

  #subscribe(): Promise<TestBackend> {
    return subscribedBackend(this.gw, 'devices/+/telemetry', 'devices/+/state', 'gateway/deadletter/+');
  }

  /** Fresh connections and a fresh backend, so nothing left over from a failed batch is read as the next one's. */
  async #reconnect(): Promise<void> {
    await this.#backend.close();
    this.#backend = await this.#subscribe();
    for (const device of this.#devices.values()) {
      device.conn.ws.terminate();
      device.conn = await this.#open(device.token);
    }
  }

  /**
   * Sends the frames (pipelined, all at once) and a valid sentinel after them on
   * each connection they used (`everyDevice`: on all), then checks every reply
   * and publication they caused.
   */
  async runBatch(plans: readonly FramePlan[], { everyDevice = false } = {}): Promise<void> {
    if (this.#dirty) await this.#reconnect();
    this.#dirty = true;
    const batch = ++this.stats.batches;
    const faultsBefore = this.#faults.length;
    const sent = new Map<string, SentFrame[]>();
    const add = (model: string, plan: FramePlan | undefined, index: number): void => {
      const device = this.#devices.get(model)!;
      const wire = renderFrame(plan ?? { model, seed: device.sentinel, id: { kind: 'fresh' }, mutations: [], binary: false }, `${plan ? 'f' : 's'}${batch}.${index}`, this.#maxFrameBytes);
      const frame: SentFrame = { index, model, plan, wire, expected: this.#oracle.expect(model, wire) };
      if (!plan && frame.expected.reply !== 'ack') throw new Error(`sentinel for ${model} is not valid: ${wire.bytes.toString()}`);
      sent.set(model, [...(sent.get(model) ?? []), frame]);
      device.conn.ws.send(wire.bytes, { binary: wire.binary });
    };
    plans.forEach((plan, i) => add(plan.model, plan, i));
    for (const model of this.#devices.keys()) if (everyDevice || sent.has(model)) add(model, undefined, plans.length);

    const violations: string[] = [];
    const outcomes = new Map<string, Outcome[]>();
    await Promise.all(
      [...sent].map(async ([model, frames]) => {
        const replies = await this.#replies(this.#devices.get(model)!, frames.length, violations);
        outcomes.set(model, matchReplies(frames, replies, violations));
      }),
    );
    const due = new Map([...outcomes].map(([model, list]) => [model, duePublications(list)]));
    const got = await this.#publications(due, violations);
    for (const [model, list] of due) checkPublications(list, got.get(model)!, this.#devices.get(model)!.validators, violations);
    for (const model of sent.keys()) {
      const device = this.#devices.get(model)!;
      if (device.conn.ws.readyState !== WebSocket.OPEN) violations.push(`the ${model} device's connection is no longer open after batch ${batch}`);
    }
    violations.push(...this.#faults.slice(faultsBefore));
    if (violations.length > 0) {
      const shown = violations.slice(0, 12);
      if (violations.length > shown.length) shown.push(`… and ${violations.length - shown.length} more`);
      throw new BrokenInvariants(`batch ${batch} (${plans.length} frames) broke the frame-path invariants:\n- ${shown.join('\n- ')}`);
    }
    this.#dirty = false;
    this.#count(plans.length, [...sent.values()].flat(), [...outcomes.values()].flat());
  }

  async #replies(device: FuzzDevice, count: number, violations: string[]): Promise<Frame[]> {
    const replies: Frame[] = [];
    const deadline = Date.now() + REPLY_DEADLINE_MS;
    const closed = device.conn.closed.then((c) => {
      throw new Error(`closed ${c.code} ${c.reason}`);
    });
    closed.catch(() => undefined);
    while (replies.length < count) {
      try {
        replies.push(await Promise.race([device.conn.nextFrame(Math.max(1, deadline - Date.now())), closed]));
      } catch (err) {
        violations.push(`the ${device.model.name} device got ${replies.length} of ${count} replies, then: ${(err as Error).message}`);
        break;
      }
    }
    return replies;
  }

  /** Waits (with a deadline) until each device's due publications have arrived, sorted per device and topic. */
  async #publications(due: Map<string, Due>, violations: string[]): Promise<Map<string, DeviceTopics>> {
    const got = new Map<string, DeviceTopics>();
    const byId = new Map<string, DeviceTopics>();
    for (const device of this.#devices.values()) {
      const topics: DeviceTopics = { device: device.id, model: device.model.name, telemetry: [], state: [], deadLetters: [] };
      got.set(device.model.name, topics);
      byId.set(device.id, topics);
    }
    const missing = (): string[] =>
      [...due].flatMap(([model, d]) => {
        const g = got.get(model)!;
        const kinds = ['telemetry', 'state', 'deadLetters'] as const;
        return kinds.filter((k) => g[k].length < d[k].length).map((k) => `${model} ${k} ${g[k].length}/${d[k].length}`);
      });
    const deadline = Date.now() + PUBLISH_DEADLINE_MS;
    while (missing().length > 0) {
      let message: Received;
      try {
        message = await this.#backend.nextMessage(Math.max(1, deadline - Date.now()));
      } catch {
        violations.push(`publications still missing after ${PUBLISH_DEADLINE_MS} ms: ${missing().join(', ')}`);
        break;
      }
      // Retained states replayed to a new subscription (after a reset) are old news.
      if (message.retain) continue;
      const [root, id, kind] = message.topic.split('/');
      const topics = byId.get((root === 'gateway' ? kind : id)!);
      if (!topics) violations.push(`publication on ${message.topic} from no fuzzed device`);
      else if (root === 'gateway') topics.deadLetters.push(message);
      else if (kind === 'telemetry') topics.telemetry.push(message);
      else if (kind === 'state') topics.state.push(message);
      else violations.push(`publication on unexpected topic ${message.topic}`);
    }
    return got;
  }

  /**
   * The last word of a run: a reply or publication of the last batch that came
   * twice, or late, would otherwise go unseen. Each connection answers one more
   * sentinel, and nothing else may arrive before it.
   */
  finish(): Promise<void> {
    return this.runBatch([], { everyDevice: true });
  }

  #count(frames: number, sent: SentFrame[], outcomes: Outcome[]): void {
    this.stats.frames += frames;
    for (const frame of sent) {
      if (!frame.plan) continue;
      this.stats.bytes += frame.wire.bytes.length;
      this.stats.largestFrame = Math.max(this.stats.largestFrame, frame.wire.bytes.length);
      if (frame.wire.binary) this.stats.binary++;
    }
    for (const { sent: frame, reply } of outcomes) {
      if (!frame.plan) continue;
      const kind = reply.type === 'ack' ? 'ack' : (reply.code as string);
      this.stats.replies[kind] = (this.stats.replies[kind] ?? 0) + 1;
      if (reply.type === 'error' && reply.id === undefined) this.stats.withoutId++;
    }
  }

  async close(): Promise<void> {
    process.off('uncaughtException', this.#onFault);
    process.off('unhandledRejection', this.#onFault);
    for (const device of this.#devices.values()) device.conn.ws.terminate();
    await this.#backend.close();
    await this.gw.close();
  }
}
