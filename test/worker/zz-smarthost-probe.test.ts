// THROWAWAY probe (smarthost helper): delete before finishing.
import { connect } from "cloudflare:sockets";
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import { smarthost } from "../smarthost/client.ts";

const sh = smarthost((env as unknown as { TEST_SMARTHOST: string }).TEST_SMARTHOST);

async function readReply(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value);
    const lines = text.split("\r\n").filter(Boolean);
    const last = lines[lines.length - 1];
    if (text.endsWith("\r\n") && last && last[3] !== "-") return text;
  }
}

test("health over fetch", async () => {
  const res = await fetch(`http://127.0.0.1:${sh.ports.control}/health`);
  const body = await res.json();
  console.log("health", JSON.stringify(body));
  expect(res.status).toBe(200);
  expect(await sh.messages()).toEqual([]);
});

for (const host of ["127.0.0.1", "localhost"]) {
  test(`implicit TLS via connect() to ${host}`, async () => {
    const socket = connect({ hostname: host, port: sh.ports.implicit }, { secureTransport: "on", allowHalfOpen: false });
    const reader = socket.readable.getReader();
    const greeting = await readReply(reader);
    console.log(host, "implicit greeting", greeting);
    expect(greeting).toMatch(/^220 /);
    await socket.close();
  });

  test(`STARTTLS via startTls() to ${host}`, async () => {
    const socket = connect({ hostname: host, port: sh.ports.starttls }, { secureTransport: "starttls", allowHalfOpen: false });
    let reader = socket.readable.getReader();
    let writer = socket.writable.getWriter();
    const enc = new TextEncoder();
    expect(await readReply(reader)).toMatch(/^220 /);
    await writer.write(enc.encode("EHLO probe.test\r\n"));
    expect(await readReply(reader)).toContain("STARTTLS");
    await writer.write(enc.encode("STARTTLS\r\n"));
    expect(await readReply(reader)).toMatch(/^220 /);
    reader.releaseLock();
    writer.releaseLock();
    const secure = socket.startTls();
    reader = secure.readable.getReader();
    writer = secure.writable.getWriter();
    await writer.write(enc.encode("EHLO probe.test\r\n"));
    const ehlo = await readReply(reader);
    console.log(host, "ehlo after starttls", JSON.stringify(ehlo));
    expect(ehlo).toContain("AUTH PLAIN LOGIN");
    await secure.close();
  });
}
