import fc from 'fast-check';

/** The JSON Schema subset the shipped model schemas use. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  minProperties?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  enum?: unknown[];
  const?: unknown;
  format?: string;
}

// Keywords that only document. Any other keyword is refused below: a new model
// using one would otherwise be seeded with values its schema may not accept
// (or never with the ones it does), and the fuzz test would quietly cover less.
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description']);
const SUPPORTED = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'minProperties', 'minimum', 'maximum',
  'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'enum', 'const', 'format',
]);

/** Values valid against `schema` (draft-07 subset); throws on a keyword it cannot honour. */
export function validValues(schema: JsonSchema, where: string): fc.Arbitrary<unknown> {
  for (const key of Object.keys(schema)) {
    if (!ANNOTATIONS.has(key) && !SUPPORTED.has(key)) throw new Error(`${where}: schema keyword ${key} has no fuzz generator`);
  }
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'object':
      return objectValues(schema, where);
    case 'number':
      return numberValues(schema);
    case 'integer':
      return fc.integer({ min: Math.ceil(lowest(schema)), max: Math.floor(highest(schema)) });
    case 'string':
      if (schema.format === 'date-time') return dateTimes();
      if (schema.format !== undefined) throw new Error(`${where}: format ${schema.format} has no fuzz generator`);
      return fc.string({ unit: 'binary', minLength: schema.minLength ?? 0, maxLength: schema.maxLength ?? 32 });
    default:
      throw new Error(`${where}: type ${String(schema.type)} has no fuzz generator`);
  }
}

/** Numbers on and just past the schema's bounds: where range checks go wrong. */
export function edgeNumbers(schema: JsonSchema): number[] {
  const edges: number[] = [];
  for (const bound of [schema.minimum, schema.maximum, schema.exclusiveMinimum, schema.exclusiveMaximum]) {
    if (bound === undefined) continue;
    edges.push(bound, bound - 1e-9, bound + 1e-9, bound - 1, bound + 1);
  }
  return edges;
}

function objectValues(schema: JsonSchema, where: string): fc.Arbitrary<unknown> {
  if (schema.additionalProperties !== false) throw new Error(`${where}: only additionalProperties: false is supported`);
  const properties = schema.properties ?? {};
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, child] of Object.entries(properties)) shape[key] = validValues(child, `${where}/${key}`);
  const record = fc.record(shape, { requiredKeys: schema.required ?? [], noNullPrototype: true });
  const minProperties = schema.minProperties ?? 0;
  return minProperties === 0 ? record : record.filter((value) => Object.keys(value).length >= minProperties);
}

function numberValues(schema: JsonSchema): fc.Arbitrary<number> {
  const range = fc.double({
    min: lowest(schema),
    max: highest(schema),
    minExcluded: schema.exclusiveMinimum !== undefined,
    maxExcluded: schema.exclusiveMaximum !== undefined,
    noNaN: true,
    noDefaultInfinity: true,
  });
  const inRange = (n: number): boolean =>
    n >= lowest(schema) && n <= highest(schema) && n !== schema.exclusiveMinimum && n !== schema.exclusiveMaximum;
  const edges = edgeNumbers(schema).filter(inRange);
  return edges.length === 0 ? range : fc.oneof({ arbitrary: range, weight: 4 }, { arbitrary: fc.constantFrom(...edges), weight: 1 });
}

function lowest(schema: JsonSchema): number {
  return schema.minimum ?? schema.exclusiveMinimum ?? -Number.MAX_SAFE_INTEGER;
}

function highest(schema: JsonSchema): number {
  return schema.maximum ?? schema.exclusiveMaximum ?? Number.MAX_SAFE_INTEGER;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/**
 * RFC 3339 date-times, including what Date#toISOString never writes and a
 * validator may still accept: lowercase t/z, a space separator, offsets up to
 * ±23:59, nine fraction digits, second 60 (a leap second) and year 0000.
 */
export function dateTimes(): fc.Arbitrary<string> {
  const random = fc
    .record({
      year: fc.oneof(fc.integer({ min: 1970, max: 2100 }), fc.integer({ min: 0, max: 9999 })),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      hour: fc.integer({ min: 0, max: 23 }),
      minute: fc.integer({ min: 0, max: 59 }),
      second: fc.integer({ min: 0, max: 60 }),
      fraction: fc.option(fc.stringMatching(/^[0-9]{1,9}$/), { nil: undefined }),
      separator: fc.constantFrom('T', 't', ' '),
      zone: fc.oneof(
        fc.constantFrom('Z', 'z'),
        fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(
          ([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`,
        ),
      ),
    })
    .map(
      (t) =>
        `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}${t.separator}${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}` +
        `${t.fraction === undefined ? '' : `.${t.fraction}`}${t.zone}`,
    );
  // A random draw almost never lands on these.
  const edges = fc.constantFrom(
    '2016-12-31T23:59:60Z',
    '2016-12-31T22:59:60-01:00',
    '1969-12-31T23:59:59.999Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999999-23:59',
    '2024-02-29T12:00:00+14:00',
  );
  return fc.oneof({ arbitrary: random, weight: 9 }, { arbitrary: edges, weight: 1 });
}
