import fc from 'fast-check';
import { validValues, type JsonSchema } from './schema-arbitrary.js';

/** A shipped model's schemas, as the generators need them. */
export interface ModelSpec {
  name: string;
  telemetry: JsonSchema;
  state: JsonSchema;
}

/**
 * How the frame's `id` is filled in when it is sent. Generated values can
 * repeat, and replies are matched by id, so most ids are made unique by the
 * sender (`fresh`); the rest are the values a broken device would send.
 */
export type IdPlan =
  | { kind: 'fresh' }
  /** Unique, then padded with `unit` to `length` code points (128 is the limit). */
  | { kind: 'padded'; length: number; unit: string }
  | { kind: 'value'; value: unknown }
  | { kind: 'absent' };

/**
 * One change to a valid frame. Mutations are data, not functions, so fast-check
 * can print and shrink them; `at` picks a node (or a text offset) modulo what
 * exists, so any number is meaningful for any frame.
 */
export type Mutation =
  | { op: 'drop'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'rename'; at: number; key: string }
  | { op: 'replace'; at: number; value: unknown }
  /** A JSON number text with no exact JavaScript value (1e999 parses to Infinity). */
  | { op: 'literal'; at: number; literal: string }
  | { op: 'nest'; at: number; depth: number; as: 'array' | 'object' }
  /** The frame becomes JSON that is not an object. */
  | { op: 'root'; value: unknown }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  /** A second copy of a key in the text: JSON.parse keeps the last one. */
  | { op: 'duplicate'; key: string; value: unknown; first: boolean }
  | { op: 'text'; text: string };

export interface FramePlan {
  /** Which model's device sends it (and whose schemas made the seed). */
  model: string;
  /** A valid frame without its id (a `hello` is valid only before authentication). */
  seed: Record<string, unknown>;
  id: IdPlan;
  mutations: readonly Mutation[];
  binary: boolean;
}

// Characters that break naive string handling: NUL, lone surrogates (sent as
// JSON escapes, they survive UTF-8), byte-order marks, RTL overrides, line
// separators that older JSON parsers refuse, combining marks, emoji sequences.
const NASTY_CHARS = [
  '\u0000', '\u0001', '\u001f', '\u007f', '\ud800', '\udbff', '\udc00', '\udfff', '\ufeff', '\ufffd', '\uffff',
  '\u202e', '\u202d', '\u200f', '\u200b', '\u2028', '\u2029', '\u0301', 'ש', 'م', '😀', '👩‍👩‍👧‍👦', '\u{10ffff}', '"', '\\', '/', '~',
];
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const char = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 3 },
  { arbitrary: fc.constantFrom(...NASTY_CHARS), weight: 2 },
  { arbitrary: loneSurrogate, weight: 1 },
);

const nastyString = fc.oneof(
  fc.constantFrom('', 'NaN', 'Infinity', '-Infinity', '1e999', '0x1A', '1_000', ' 42', '42 ', '4,2', 'null', 'true', 'undefined', '{}', '[]'),
  fc.string({ unit: char, maxLength: 40 }),
  // Long but inside maxFrameBytes even if every character is escaped (\uXXXX, 6 bytes).
  fc.tuple(char, fc.integer({ min: 64, max: 8000 })).map(([c, n]) => c.repeat(n)),
);

const nastyNumber = fc.oneof(
  fc.constantFrom(0, -0, -1, 1, 0.5, 1e308, -1e308, 5e-324, -5e-324, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, 1e21, 1e-7),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

const leaf: fc.Arbitrary<unknown> = fc.oneof(nastyNumber, nastyString, fc.boolean(), fc.constant(null));

/** Any JSON value, leaning toward the ones that break parsers and validators. */
export const nastyValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: leaf, weight: 4 },
    { arbitrary: fc.array(tie('value'), { maxLength: 4 }), weight: 1 },
    { arbitrary: fc.dictionary(fc.string({ unit: char, maxLength: 8 }), tie('value'), { maxKeys: 4, noNullPrototype: true }), weight: 1 },
  ),
})).value;

// JSON numbers whose text carries more than a double can hold, or none at all.
const NUMBER_LITERALS = ['1e999', '-1e999', '1E400', '1e-400', '-0', '-0.0e-0', '0.0', '1.0', '1.000000000000000000001', '100000000000000000000000000001', '0e0', '12345678901234567890.5'];

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];
// Keys a JSON pointer must escape (~0, ~1), and keys that are nothing.
const POINTER_KEYS = ['a/b', '/', '~', '~1', 'a~0b', '', ' '];

function keysOf(models: readonly ModelSpec[]): fc.Arbitrary<string> {
  const known = new Set(['type', 'id', 'ts', 'data', 'state', 'ok', 'result', 'error', 'code', 'message', 'token']);
  for (const model of models) {
    for (const schema of [model.telemetry, model.state]) for (const key of Object.keys(schema.properties ?? {})) known.add(key);
  }
  return fc.oneof(
    { arbitrary: fc.constantFrom(...known), weight: 4 },
    { arbitrary: fc.constantFrom(...PROTOTYPE_KEYS, ...POINTER_KEYS), weight: 1 },
    { arbitrary: fc.string({ unit: char, minLength: 1, maxLength: 12 }), weight: 1 },
  );
}

function mutations(models: readonly ModelSpec[]): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 1000 });
  const key = keysOf(models);
  return fc.oneof(
    { arbitrary: fc.record({ op: fc.constant('drop' as const), at }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('add' as const), at, key, value: nastyValue }), weight: 3 },
    { arbitrary: fc.record({ op: fc.constant('rename' as const), at, key }), weight: 2 },
    { arbitrary: fc.record({ op: fc.constant('replace' as const), at, value: nastyValue }), weight: 5 },
    { arbitrary: fc.record({ op: fc.constant('literal' as const), at, literal: fc.constantFrom(...NUMBER_LITERALS) }), weight: 2 },
    {
      arbitrary: fc.record({ op: fc.constant('nest' as const), at, depth: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 100, max: 5000 })), as: fc.constantFrom('array' as const, 'object' as const) }),
      weight: 1,
    },
    { arbitrary: fc.record({ op: fc.constant('root' as const), value: leaf.chain((v) => fc.constantFrom(v, [v])) }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('truncate' as const), at }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('insert' as const), at, text: fc.oneof(fc.constantFrom(',', '}', ']', '"', '\\', ':', '{', 'NaN', 'undefined', "'", '\u0000'), fc.string({ unit: char, minLength: 1, maxLength: 4 })) }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('duplicate' as const), key, value: nastyValue, first: fc.boolean() }), weight: 1 },
    { arbitrary: fc.record({ op: fc.constant('text' as const), text: fc.string({ unit: char, maxLength: 64 }) }), weight: 1 },
  );
}

const idPlans: fc.Arbitrary<IdPlan> = fc.oneof(
  { arbitrary: fc.constant({ kind: 'fresh' as const }), weight: 16 },
  {
    arbitrary: fc.record({
      kind: fc.constant('padded' as const),
      length: fc.oneof(fc.constantFrom(127, 128, 129, 130), fc.integer({ min: 1, max: 4000 })),
      unit: fc.constantFrom('x', '\u0000', '😀', '\u202e', '\ud800', 'ש'),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('value' as const), value: nastyValue }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'absent' as const }), weight: 1 },
);

function seedsFor(model: ModelSpec): fc.Arbitrary<Record<string, unknown>> {
  const where = `schemas/models/${model.name}`;
  const ts = fc.oneof(fc.constantFrom(0, 1732400000000, Number.MAX_SAFE_INTEGER), fc.maxSafeNat(), validValues({ type: 'string', format: 'date-time' }, 'ts'));
  const telemetry = fc.record(
    { type: fc.constant('telemetry'), ts, data: validValues(model.telemetry, `${where}/telemetry.schema.json`) },
    { requiredKeys: ['type', 'data'] },
  );
  const state = fc.record({ type: fc.constant('state'), state: validValues(model.state, `${where}/state.schema.json`) });
  // No command awaits a result in the fuzz run, so every result is refused (invalid_command_result).
  const commandResult = fc.oneof(
    fc.record({ type: fc.constant('command_result'), ok: fc.constant(true), result: fc.dictionary(fc.string(), leaf, { maxKeys: 3 }) }, { requiredKeys: ['type', 'ok'] }),
    fc.record({
      type: fc.constant('command_result'),
      ok: fc.constant(false),
      error: fc.record({ code: fc.string({ minLength: 1, maxLength: 64 }), message: fc.string({ maxLength: 1024 }) }, { requiredKeys: ['code'] }),
    }),
  );
  // Valid before authentication only; afterwards it is bad_frame.
  const hello = fc.record({ type: fc.constant('hello'), token: fc.stringMatching(/^wmg_[A-Za-z0-9_-]{43}$/) });
  return fc.oneof(
    { arbitrary: telemetry, weight: 5 },
    { arbitrary: state, weight: 3 },
    { arbitrary: commandResult, weight: 1 },
    { arbitrary: hello, weight: 1 },
  ) as fc.Arbitrary<Record<string, unknown>>;
}

/** Frames for the devices of every model: a third sent as seeded, the rest mutated. */
export function framePlans(models: readonly ModelSpec[]): fc.Arbitrary<FramePlan> {
  const mutation = mutations(models);
  return fc.oneof(
    ...models.map((model) =>
      fc.record({
        model: fc.constant(model.name),
        seed: seedsFor(model),
        id: idPlans,
        mutations: fc.oneof({ arbitrary: fc.constant<Mutation[]>([]), weight: 1 }, { arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }), weight: 2 }),
        binary: fc.oneof({ arbitrary: fc.constant(false), weight: 30 }, { arbitrary: fc.constant(true), weight: 1 }),
      }),
    ),
  );
}
