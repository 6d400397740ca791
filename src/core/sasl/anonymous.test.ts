import { describe, expect, it } from "vitest";
import { ANONYMOUS } from "./anonymous.ts";
import { runExchange, testContext } from "./memory-credentials.test-helper.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("ANONYMOUS", () => {
  // RFC 4505 §5: empty challenge, then the trace "sirhc".
  it("accepts the RFC 4505 §5 exchange", async () => {
    const ctx = testContext({});
    const start = await ANONYMOUS.server.start(ctx, null);
    expect(start.status).toEqual({ kind: "more", challenge: new Uint8Array() });
    const step = await ANONYMOUS.server.step(ctx, start.state ?? {}, bytes("sirhc"));
    expect(step.status).toEqual({ kind: "done", identity: { authcid: "anonymous", authzid: "anonymous" } });
  });

  const cases: { name: string; input: Uint8Array; want: string }[] = [
    { name: "empty trace", input: new Uint8Array(), want: "done" },
    { name: "email address", input: bytes("abuse@example.org"), want: "done" },
    { name: "255 characters", input: bytes("\u00e9".repeat(255)), want: "done" },
    { name: "256 characters", input: bytes("a".repeat(256)), want: "malformed" },
    { name: "invalid UTF-8", input: Uint8Array.of(0x61, 0xff), want: "malformed" },
    { name: "control character", input: bytes("a\nb"), want: "malformed" },
    { name: "NUL", input: bytes("a\0"), want: "malformed" },
    { name: "private use", input: bytes("\ue000"), want: "malformed" },
    { name: "12288 octets", input: new Uint8Array(12288).fill(0x61), want: "malformed" },
  ];
  for (const { name, input, want } of cases) {
    it(`${name} -> ${want}`, async () => {
      expect((await ANONYMOUS.server.start(testContext({}), input)).status.kind).toBe(want);
    });
  }

  it("round-trips with its client, which sends the trace as initial response", async () => {
    const result = await runExchange(
      ANONYMOUS.server,
      ANONYMOUS.client({ authcid: "ops@example.org" }),
      testContext({}),
    );
    expect(result.status).toEqual({ kind: "done", identity: { authcid: "anonymous", authzid: "anonymous" } });
    expect(result.steps).toBe(1);
  });

  it("the client answers an empty challenge once", async () => {
    const client = ANONYMOUS.client({ authcid: "" });
    expect(await client.step(new Uint8Array())).toEqual({ kind: "respond", response: new Uint8Array() });
    expect((await client.step(new Uint8Array())).kind).toBe("fail");
  });
});
