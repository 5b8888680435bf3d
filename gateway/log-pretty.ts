// log.format pretty: the JSON line pino wrote, as one readable line for a terminal:
// `12:03:04.567 WARN  mqtt connect refused code=unauthorized user=alice`.
const LEVEL_COLOURS: Record<string, string> = { error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[36m', debug: '\x1b[90m' };
const RESET = '\x1b[0m';

export function prettyLine(json: string, colour: boolean): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json; // pino writes JSON; anything else goes out as it came
  }
  const { time, level, msg, ...fields } = entry;
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const label = String(level ?? '').toUpperCase().padEnd(5);
  const levelText = colour ? `${LEVEL_COLOURS[String(level)] ?? ''}${label}${RESET}` : label;
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${formatValue(value)}`);
  return `${[clock, levelText, String(msg ?? ''), ...rest].filter((part) => part !== '').join(' ')}\n`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value);
}
