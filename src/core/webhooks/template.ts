// Message templates: `{{ name }}` placeholders (letters, digits, `_`, `.`, `-`; spaces inside the
// braces optional). In `html` a value is HTML-escaped; in `subject` and `text` it goes in as is
// (subject still passes the header checks of compose). A placeholder without a value is an error
// at render time, never an empty string: a reset mail without its link must not go out.

export interface TemplateParts {
  subject: string;
  text?: string | null;
  html?: string | null;
}

export interface RenderedParts {
  subject: string;
  text?: string;
  html?: string;
}

export type RenderResult = { ok: true; value: RenderedParts } | { ok: false; missing: string[] };

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;
const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Problems with a template's syntax (an opening `{{` that is not a placeholder), field by field. */
export function checkTemplate(parts: TemplateParts): string[] {
  const problems: string[] = [];
  for (const [field, value] of Object.entries(parts)) {
    if (typeof value !== "string") continue;
    const stripped = value.replace(PLACEHOLDER, "");
    if (stripped.includes("{{")) problems.push(`${field}: "{{" must open a placeholder such as {{ name }}`);
  }
  if (!parts.text && !parts.html) problems.push("text or html is required");
  return problems;
}

/** The placeholder names a template uses. */
export function placeholders(parts: TemplateParts): string[] {
  const names = new Set<string>();
  for (const value of [parts.subject, parts.text, parts.html]) {
    if (!value) continue;
    for (const match of value.matchAll(PLACEHOLDER)) names.add(match[1]!);
  }
  return [...names];
}

export function isVariableName(name: string): boolean {
  return NAME.test(name);
}

export function renderTemplate(
  parts: TemplateParts,
  variables: Readonly<Record<string, string>>,
): RenderResult {
  const missing = placeholders(parts).filter((name) => !Object.hasOwn(variables, name));
  if (missing.length) return { ok: false, missing };
  const fill = (value: string, asHtml: boolean) =>
    value.replace(PLACEHOLDER, (_, name: string) =>
      asHtml ? escapeHtml(variables[name]!) : variables[name]!,
    );
  const value: RenderedParts = { subject: fill(parts.subject, false) };
  if (parts.text) value.text = fill(parts.text, false);
  if (parts.html) value.html = fill(parts.html, true);
  return { ok: true, value };
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}
