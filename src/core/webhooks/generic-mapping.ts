// The generic receiver: any signed JSON becomes a message through a stored template. The mapping
// names, by JSON Pointer (RFC 6901), where the recipient, optional sender and subject, and each
// template variable are found in the payload.
import { isJsonPointer, resolvePointer } from "./json-pointer.ts";
import { isVariableName } from "./template.ts";

export interface GenericMapping {
  /** Pointer to the recipient: a string address or an array of them. */
  to: string;
  /** Pointer to the sender; else the receiver's fixed `from`. */
  from?: string | undefined;
  /** Pointer to a subject that replaces the template's. */
  subject?: string | undefined;
  /** Pointer to a template name; else the receiver's fixed template. */
  template?: string | undefined;
  /** variable name -> pointer. */
  variables?: Record<string, string> | undefined;
}

export interface MappedMessage {
  to: string[];
  from: string | null;
  subject: string | null;
  template: string | null;
  variables: Record<string, string>;
}

export type MapResult = { ok: true; value: MappedMessage } | { ok: false; reason: string };

/** Problems with a mapping as configured (bad pointers or variable names). */
export function checkMapping(mapping: GenericMapping): string[] {
  const problems: string[] = [];
  const pointers: [string, string | undefined][] = [
    ["to", mapping.to],
    ["from", mapping.from],
    ["subject", mapping.subject],
    ["template", mapping.template],
    ...Object.entries(mapping.variables ?? {}).map(([k, v]): [string, string] => [`variables.${k}`, v]),
  ];
  for (const [field, pointer] of pointers) {
    if (pointer !== undefined && !isJsonPointer(pointer))
      problems.push(`${field}: not a JSON Pointer (RFC 6901)`);
  }
  for (const name of Object.keys(mapping.variables ?? {})) {
    if (!isVariableName(name)) problems.push(`variables.${name}: not a placeholder name`);
  }
  return problems;
}

export function mapPayload(payload: unknown, mapping: GenericMapping): MapResult {
  const toValue = resolvePointer(payload, mapping.to);
  const to = typeof toValue === "string" ? [toValue] : Array.isArray(toValue) ? toValue : null;
  if (!to || to.length === 0 || !to.every((a) => typeof a === "string")) {
    return { ok: false, reason: `${mapping.to}: no recipient address (string or array of strings)` };
  }
  const optional = (pointer: string | undefined, field: string): string | null | Error => {
    if (pointer === undefined) return null;
    const value = resolvePointer(payload, pointer);
    return typeof value === "string" ? value : new Error(`${pointer}: ${field} is not a string`);
  };
  const from = optional(mapping.from, "from");
  const subject = optional(mapping.subject, "subject");
  const template = optional(mapping.template, "template");
  for (const value of [from, subject, template])
    if (value instanceof Error) return { ok: false, reason: value.message };
  const variables: Record<string, string> = {};
  for (const [name, pointer] of Object.entries(mapping.variables ?? {})) {
    const value = resolvePointer(payload, pointer);
    if (value === undefined || value === null) continue; // a missing value fails at render if used
    variables[name] =
      typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return {
    ok: true,
    value: {
      to: to as string[],
      from: from as string | null,
      subject: subject as string | null,
      template: template as string | null,
      variables,
    },
  };
}
