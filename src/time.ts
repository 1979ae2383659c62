// ISO 8601 date-times as clients and vendor files send them, checked as PostgreSQL would store them:
// a real calendar day (JavaScript quietly turns 2026-02-30 into 2 March), hours to 23:59:59, and a
// year from 1 to 9999.
const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The moment an ISO 8601 date-time with an offset names, or undefined when it names none. */
export function parseIsoDateTime(value: string): Date | undefined {
  const match = isoDateTime.exec(value);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second = 0] = match.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  if (year! < 1 || month! < 1 || month! > 12 || day! < 1 || day! > daysIn(year!, month!)) return undefined;
  if (hour! > 23 || minute! > 59 || second > 59) return undefined;
  const offset = match[8]!;
  if (offset.toUpperCase() !== 'Z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(-2)) > 59)) return undefined;
  // Date parses "+0200" only with the colon; the pattern allows both.
  const normalized = offset.length === 5 ? `${value.slice(0, -5)}${offset.slice(0, 3)}:${offset.slice(3)}` : value;
  const date = new Date(normalized);
  return Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999 ? undefined : date;
}
