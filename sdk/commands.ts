export interface CommandInfo {
  id: string;
  name: string;
  /** Epoch ms after which the gateway no longer waits for the result. */
  expiresAt?: number;
}

/**
 * Answers one command: its return value (or what its promise resolves to) is the
 * result; a throw is the error, with the thrown value's `code` when it has one.
 */
export type CommandHandler = (params: Record<string, unknown>, command: CommandInfo) => unknown;

type Reply = { type: 'command_result'; id: string; ok: true; result?: object } | { type: 'command_result'; id: string; ok: false; error: { code: string; message: string } };

/** Runs the handler for a command frame and writes its command_result; unknown commands get unknown_command. */
export async function answerCommand(handlers: ReadonlyMap<string, CommandHandler>, frame: Record<string, unknown>, send: (reply: Reply) => void): Promise<void> {
  const { id, name } = frame;
  // The gateway only sends well-formed commands; anything else has no id to answer under.
  if (typeof id !== 'string' || typeof name !== 'string') return;
  const params = isObject(frame.params) ? frame.params : {};
  const handler = handlers.get(name);
  if (!handler) return send({ type: 'command_result', id, ok: false, error: { code: 'unknown_command', message: `this device has no command "${name}"` } });
  const info: CommandInfo = typeof frame.expiresAt === 'number' ? { id, name, expiresAt: frame.expiresAt } : { id, name };
  let result: unknown;
  try {
    result = await handler(params, info);
  } catch (err) {
    const thrown = err as { code?: unknown; message?: unknown } | null;
    const code = typeof thrown?.code === 'string' ? thrown.code : 'command_failed';
    const message = typeof thrown?.message === 'string' ? thrown.message : String(err);
    return send({ type: 'command_result', id, ok: false, error: { code, message } });
  }
  // command_result's `result` is an object: any other value is wrapped.
  if (result === undefined) return send({ type: 'command_result', id, ok: true });
  send({ type: 'command_result', id, ok: true, result: isObject(result) ? result : { value: result } });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
