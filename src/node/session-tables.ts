// Lookup tables for one SMTP session, each answer remembered for the session: with
// smtpd_delay_reject the sender's restrictions run again at every RCPT, and a session with many
// messages asks the same tables the same keys over and over (one SQLite query each otherwise).
// A new session asks afresh, so a map change applies from the next connection. Errors are not kept.
import type { LookupTable } from "../core/maps/lookup-table.ts";

export function sessionTables(open: (spec: string) => LookupTable): (spec: string) => LookupTable {
  const tables = new Map<string, LookupTable>();
  return (spec) => {
    let table = tables.get(spec);
    if (!table) {
      table = rememberingTable(open(spec));
      tables.set(spec, table);
    }
    return table;
  };
}

function rememberingTable(table: LookupTable): LookupTable {
  const answers = new Map<string, Promise<string | null>>();
  return {
    lookup(key) {
      let answer = answers.get(key);
      if (!answer) {
        answer = table.lookup(key);
        answers.set(key, answer);
        answer.catch(() => answers.delete(key));
      }
      return answer;
    },
  };
}
