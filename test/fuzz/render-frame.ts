import type { FramePlan, IdPlan, Mutation } from './frame-plans.js';

/** What goes on the wire: the bytes of one WebSocket frame. */
export interface WireFrame {
  binary: boolean;
  bytes: Buffer;
}

type Container = Record<string, unknown> | unknown[];
interface Slot {
  parent: Container;
  key: string;
}

// Plain assignment of '__proto__' would set the prototype instead of adding the
// key a device can send; JSON.parse defines it as an own property, and so do we.
function put(target: Container, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

/** Every value below the root, depth first; iterative, since `nest` builds thousands of levels. */
function slotsOf(root: unknown): Slot[] {
  const slots: Slot[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (!isContainer(node)) continue;
    for (const key of Object.keys(node)) {
      slots.push({ parent: node, key });
      stack.push((node as Record<string, unknown>)[key]);
    }
  }
  return slots;
}

function objectsOf(root: unknown): Record<string, unknown>[] {
  const objects = [root, ...slotsOf(root).map((s) => (s.parent as Record<string, unknown>)[s.key])];
  return objects.filter((v): v is Record<string, unknown> => isContainer(v) && !Array.isArray(v));
}

function idValue(plan: IdPlan, tag: string): unknown {
  switch (plan.kind) {
    case 'fresh':
      return tag;
    case 'padded': {
      const units = [...tag];
      while (units.length < plan.length) units.push(plan.unit);
      return units.join('');
    }
    case 'value':
      return plan.value;
    case 'absent':
      return undefined;
  }
}

// Deep nesting and number literals are spliced into the text: JSON.stringify
// cannot write 1e999, and recursing through thousands of levels inside
// fast-check's async stack overflows it. The tree holds a marker meanwhile.
const marker = (i: number): string => `\u0001splice-${i}\u0001`;

function nestedText(value: unknown, depth: number, as: 'array' | 'object'): string {
  const [open, close] = as === 'array' ? ['[', ']'] : ['{"n":', '}'];
  return open.repeat(depth) + JSON.stringify(value) + close.repeat(depth);
}

function mutateTree(root: unknown, mutation: Mutation, splices: string[]): unknown {
  const slots = slotsOf(root);
  const slot = 'at' in mutation && slots.length > 0 ? slots[mutation.at % slots.length]! : undefined;
  switch (mutation.op) {
    case 'drop':
      if (slot && Array.isArray(slot.parent)) slot.parent.splice(Number(slot.key), 1);
      else if (slot) delete (slot.parent as Record<string, unknown>)[slot.key];
      return root;
    case 'add': {
      const objects = objectsOf(root);
      if (objects.length > 0) put(objects[mutation.at % objects.length]!, mutation.key, structuredClone(mutation.value));
      return root;
    }
    case 'rename':
      if (slot && !Array.isArray(slot.parent)) {
        const value = slot.parent[slot.key];
        delete slot.parent[slot.key];
        put(slot.parent, mutation.key, value);
      }
      return root;
    case 'replace':
      if (slot) put(slot.parent, slot.key, structuredClone(mutation.value));
      return root;
    case 'literal':
      if (slot) {
        put(slot.parent, slot.key, marker(splices.length));
        splices.push(mutation.literal);
      }
      return root;
    case 'nest':
      if (slot) {
        // The value leaves the tree here, markers of earlier splices included: later mutations cannot reach into it.
        splices.push(nestedText((slot.parent as Record<string, unknown>)[slot.key], mutation.depth, mutation.as));
        put(slot.parent, slot.key, marker(splices.length - 1));
      }
      return root;
    case 'root':
      return structuredClone(mutation.value);
    default:
      return root;
  }
}

function mutateText(text: string, mutation: Mutation): string {
  switch (mutation.op) {
    case 'truncate':
      return text.slice(0, mutation.at % (text.length + 1));
    case 'insert': {
      const at = mutation.at % (text.length + 1);
      return text.slice(0, at) + mutation.text + text.slice(at);
    }
    case 'duplicate': {
      if (!text.startsWith('{') || !text.endsWith('}')) return text;
      const member = `${JSON.stringify(mutation.key)}:${JSON.stringify(mutation.value)}`;
      if (text === '{}') return `{${member}}`;
      return mutation.first ? `{${member},${text.slice(1)}` : `${text.slice(0, -1)},${member}}`;
    }
    case 'text':
      return mutation.text;
    default:
      return text;
  }
}

/**
 * The frame a plan describes, with `tag` as its unique id, cut to `maxBytes`
 * at a character boundary: a larger frame closes the socket (1009) by design,
 * and an invalid UTF-8 text frame fails the connection (1007, RFC 6455), so
 * neither belongs in a stream whose connection must stay open.
 */
export function renderFrame(plan: FramePlan, tag: string, maxBytes: number): WireFrame {
  const id = idValue(plan.id, tag);
  let tree: unknown = { ...plan.seed };
  if (id !== undefined) tree = { type: plan.seed.type, id, ...plan.seed };
  // Generated values are shared by fast-check between runs and shrinks: the tree
  // holds copies only (values from mutations are cloned as they go in).
  tree = structuredClone(tree);
  const splices: string[] = [];
  for (const mutation of plan.mutations) tree = mutateTree(tree, mutation, splices);
  let text = JSON.stringify(tree) ?? 'null';
  // Last first: a splice's text holds only the markers of splices made before it.
  for (let i = splices.length - 1; i >= 0; i--) text = text.replace(JSON.stringify(marker(i)), () => splices[i]!);
  for (const mutation of plan.mutations) text = mutateText(text, mutation);
  // Buffer.from writes a lone surrogate outside a JSON escape as U+FFFD, so the bytes are always valid UTF-8.
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > maxBytes) {
    let end = maxBytes;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  return { binary: plan.binary, bytes };
}
