import { pino, stdTimeFunctions, type DestinationStream } from 'pino';
import { prettyLine } from './log-pretty.js';

// One event per line on stderr (stdout is reserved for the CLI's own output, such
// as `start --json`): JSON, or a readable line for a terminal (log.format).
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

// Secrets are removed by the logger itself, whatever a caller passes: a token or
// password in a field, an object or a request's headers never reaches a log line.
const SECRET_KEYS = ['token', 'password', 'authorization', 'secret'];
export const REDACTED_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  ...SECRET_KEYS.map((key) => `*.*.${key}`),
  'headers',
  '*.headers',
];

/** `auto` is pretty on a terminal and JSON anywhere else (a file, a pipe, a log collector). */
export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
  format: LogFormat = 'json',
  terminal = process.stderr.isTTY === true,
): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && terminal);
  // Formatting the finished JSON line keeps one pipeline, redaction included, for both formats.
  const stream: DestinationStream = { write: pretty ? (line) => write(prettyLine(line, terminal)) : write };
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    stream,
  );
  const emit = (at: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (fields) logger[at](fields, msg);
    else logger[at](msg);
  };
  return { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug') };
}
