// The Date: field (RFC 5322 §3.3 date-time). Generated in UTC; a client-supplied one must match
// the current (non-obsolete) syntax.

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

export const RFC5322_DATE_TIME =
  /^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),[ \t]*)?(?:0?[1-9]|[12]\d|3[01])[ \t]+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]+\d{4}[ \t]+(?:[01]\d|2[0-3]):[0-5]\d(?::(?:[0-5]\d|60))?[ \t]+[+-]\d{4}$/;

const pad = (value: number) => String(value).padStart(2, "0");

/** e.g. `Tue, 01 Jul 2025 09:05:00 +0000` */
export function formatRfc5322Date(date: Date): string {
  const day = DAYS[date.getUTCDay()]!;
  const month = MONTHS[date.getUTCMonth()]!;
  const time = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${day}, ${pad(date.getUTCDate())} ${month} ${date.getUTCFullYear()} ${time} +0000`;
}
