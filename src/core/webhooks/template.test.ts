import { describe, expect, it } from "vitest";
import { checkTemplate, renderTemplate } from "./template.ts";

describe("renderTemplate", () => {
  it("escapes values in html only", () => {
    const result = renderTemplate(
      { subject: "Hi {{ name }}", text: "Hello {{name}} <{{ email }}>", html: "<p>Hello {{ name }}</p>" },
      { name: `<b>Ann & "Bo"</b>`, email: "a@example.com" },
    );
    expect(result).toEqual({
      ok: true,
      value: {
        subject: `Hi <b>Ann & "Bo"</b>`,
        text: `Hello <b>Ann & "Bo"</b> <a@example.com>`,
        html: "<p>Hello &lt;b&gt;Ann &amp; &quot;Bo&quot;&lt;/b&gt;</p>",
      },
    });
  });

  it("a placeholder without a value is an error naming it", () => {
    expect(renderTemplate({ subject: "{{ a }}", text: "{{ b }} {{ c }}" }, { b: "" })).toEqual({
      ok: false,
      missing: ["a", "c"],
    });
  });

  it("values are not expanded again", () => {
    const result = renderTemplate({ subject: "s", text: "{{ a }}" }, { a: "{{ b }}", b: "x" });
    expect(result).toEqual({ ok: true, value: { subject: "s", text: "{{ b }}" } });
  });

  it("dotted names (user_metadata.name) work", () => {
    const result = renderTemplate(
      { subject: "s", html: "{{ user_metadata.name }}" },
      { "user_metadata.name": "Ann" },
    );
    expect(result).toEqual({ ok: true, value: { subject: "s", html: "Ann" } });
  });
});

describe("checkTemplate", () => {
  it("refuses a stray {{ and a template without a body", () => {
    expect(checkTemplate({ subject: "{{ ok }}", text: "{{ not closed" })).toEqual([
      'text: "{{" must open a placeholder such as {{ name }}',
    ]);
    expect(checkTemplate({ subject: "s" })).toEqual(["text or html is required"]);
    expect(checkTemplate({ subject: "s", html: "<p>{{ a.b }}</p>" })).toEqual([]);
  });
});
