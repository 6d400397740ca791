// The one port every Postfix-style table implements (d1:, inline:, static: ...). Keys are matched
// case-insensitively: implementations fold them to lowercase, as Postfix's indexed tables do
// (access(5) "CASE FOLDING"), and lookupFirst() folds before asking.

export interface LookupTable {
  /** The value stored under `key`, or null when there is none. Rejects when the table cannot answer. */
  lookup(key: string): Promise<string | null>;
}
