// Anything a client sent that goes into a reply or a log line passes through here (as Postfix's
// printable()): control characters and non-ASCII become '?', and the length is bounded.
const NOT_PRINTABLE = /[^\x20-\x7e]/g;

export function printable(value: string, maxLength = 256): string {
  const clean = value.replace(NOT_PRINTABLE, "?");
  return clean.length > maxLength ? `${clean.slice(0, maxLength)}...` : clean;
}
