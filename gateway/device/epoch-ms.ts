// RFC 3339 date-time, as ajv-formats' "date-time" accepts it: 'T', 't' or a space
// between date and time, seconds up to 60 (a leap second), a fraction, Z or an offset.
const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch milliseconds of a validated RFC 3339 date-time. Not Date.parse: it reads
 * years 0-99 as 19xx, takes a space separator for a local time or not at all, and
 * gives NaN for a leap second. A leap second is read as the second after it (epoch
 * time has none of its own).
 */
export function epochMs(dateTime: string): number {
  const m = RFC_3339.exec(dateTime);
  if (!m) return Number.NaN;
  const [, year, month, day, hour, minute, second, fraction = '', sign, offsetHours = '0', offsetMinutes = '0'] = m;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, keeps years 0-99 as they are.
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute), Number(second), Number(fraction.padEnd(3, '0').slice(0, 3)));
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return date.getTime() - (sign === '-' ? -offsetMs : sign === '+' ? offsetMs : 0);
}
