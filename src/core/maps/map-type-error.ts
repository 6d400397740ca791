// An unknown `type:` in a map spec. A configuration error with its own code, so that a caller can
// tell "this runtime has no such table type" (d1: on Node, say) from a malformed spec.

export class MapTypeError extends Error {
  readonly code = "ERR_MAP_TYPE";
  readonly transient = false;
}
