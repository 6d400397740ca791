import { describe, expect, it } from "vitest";
import { type MemorySocket, memorySocketPair } from "../../net/memory-socket.ts";
import type { Socket } from "../../net/socket.ts";
import type { SessionOutput } from "./session-ports.ts";
import type { SmtpSession } from "./smtp-session.ts";
import { base64, plain, Transcript, type TranscriptOptions } from "./transcript.test-helper.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// A whole session as the client's turns: each turn is what it sends before it waits for replies.
const BODY = "Subject: test\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n";
const TURNS = [
  "EHLO c.example\r\n",
  "AUTH LOGIN\r\n",
  `${base64("alice")}\r\n`,
  `${base64("wrong")}\r\n`,
  `AUTH PLAIN ${plain("alice", "alice-password")}\r\nMAIL FROM:<alice@example.com> BODY=8BITMIME\r\nRCPT TO:<a@remote.test>\r\nRCPT TO:<b@remote.test> NOTIFY=NEVER\r\nRCPT TO:<bad>\r\nDATA\r\n`,
  `${BODY.replace(/^\./gm, "..")}.\r\n`,
  `MAIL FROM:<bob@example.com>\r\nRCPT TO:<c@remote.test>\r\nRSET\r\nVRFY x\r\n`,
  `FOO\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<d@remote.test>\r\nBDAT 7\r\nchunk\r\nBDAT 5 LAST\r\nlast.NOOP\r\n`,
  "QUIT\r\n",
];
const WHOLE = TURNS.join("");

interface Run {
  outputs: SessionOutput[];
  messages: string[];
  logs: string[];
}

async function run(chunks: string[], options: TranscriptOptions = {}): Promise<Run> {
  const t = new Transcript({ tls: {}, ...options });
  const outputs = await t.session.greet();
  for (const chunk of chunks) outputs.push(...(await t.session.feed(encoder.encode(chunk))));
  return { outputs, messages: t.accepted.map((a) => a.message), logs: t.logs };
}

const replyCodes = (outputs: SessionOutput[]) =>
  outputs.map((output) => (output.kind === "reply" ? output.text.slice(0, 3) : output.kind));

describe("a whole session, split anywhere", () => {
  it("the reference: one turn at a time", async () => {
    const reference = await run(TURNS);
    expect(replyCodes(reference.outputs)).toEqual([
      "220",
      "250",
      "334",
      "334",
      "535",
      "235",
      "250",
      "250",
      "250",
      "501",
      "354",
      "250",
      "250",
      "553",
      "250",
      "502",
      "502",
      "250",
      "250",
      "250",
      "250",
      "250",
      "221",
      "close",
    ]);
    expect(reference.messages).toHaveLength(2);
    expect(reference.messages[0]).toMatch(new RegExp(`\r\n${BODY.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
    expect(reference.messages[1]).toMatch(/\r\nchunk\r\nlast\.$/);
  });

  it("byte by byte gives the same outputs, messages and log lines", async () => {
    const reference = await run(TURNS);
    expect(await run([...WHOLE])).toEqual(reference);
  });

  it("each turn split at every byte boundary gives the same", async () => {
    const reference = await run(TURNS);
    for (const [index, turn] of TURNS.entries()) {
      for (let at = 1; at < turn.length; at++) {
        const chunks = [
          ...TURNS.slice(0, index),
          turn.slice(0, at),
          turn.slice(at),
          ...TURNS.slice(index + 1),
        ];
        const result = await run(chunks);
        expect(result, `turn ${index} split at ${at}`).toEqual(reference);
      }
    }
  });

  it("without the pipelining checks, all at once and every two-way split of the whole input agree", async () => {
    const lax: TranscriptOptions = { smtpd: { smtpd_forbid_unauth_pipelining: "no" } };
    const reference = await run(TURNS, lax);
    expect(await run([WHOLE], lax)).toEqual(reference);
    for (let at = 1; at < WHOLE.length; at++) {
      expect(await run([WHOLE.slice(0, at), WHOLE.slice(at)], lax), `split at ${at}`).toEqual(reference);
    }
  });

  it("feed() calls made without waiting are answered in order", async () => {
    const t = new Transcript({ tls: {}, smtpd: { smtpd_forbid_unauth_pipelining: "no" } });
    const greeting = await t.session.greet();
    const pending = [...WHOLE].map((byte) => t.session.feed(encoder.encode(byte)));
    const outputs = [...greeting, ...(await Promise.all(pending)).flat()];
    expect(outputs).toEqual((await run(TURNS)).outputs);
  });
});

/** A minimal driver, as the Node listener will be: socket in, outputs out. */
async function drive(session: SmtpSession, start: Socket): Promise<void> {
  let socket = start;
  const perform = async (outputs: SessionOutput[]): Promise<boolean> => {
    for (const output of outputs) {
      if (output.kind === "reply") await socket.write(encoder.encode(output.text));
      else if (output.kind === "starttls") {
        socket = await socket.startTls();
        session.tlsStarted({});
      } else if (output.kind === "close") {
        await socket.close();
        return false;
      }
    }
    return true;
  };
  if (!(await perform(await session.greet()))) return;
  for (;;) {
    const bytes = await socket.read();
    if (bytes === null) return session.end();
    if (!(await perform(await session.feed(bytes)))) return;
  }
}

async function readReply(socket: Socket): Promise<string> {
  const bytes = await socket.read();
  return bytes === null ? "<eof>" : decoder.decode(bytes);
}

describe("driven over a socket", () => {
  it("STARTTLS: the injected plaintext is gone, the session goes on inside TLS", async () => {
    const [client, server]: [MemorySocket, MemorySocket] = memorySocketPair();
    const t = new Transcript();
    const driving = drive(t.session, server);
    expect(await readReply(client)).toMatch(/^220 /);
    await client.write(encoder.encode("EHLO c.example\r\n"));
    expect(await readReply(client)).toMatch(/STARTTLS/);
    // One write: the command and an injected command behind it.
    await client.write(encoder.encode(`STARTTLS\r\nAUTH PLAIN ${plain("alice", "alice-password")}\r\n`));
    expect(await readReply(client)).toBe("220 2.0.0 Ready to start TLS\r\n");
    const secure = await client.startTls();
    await secure.write(encoder.encode("MAIL FROM:<alice@example.com>\r\n"));
    expect(await readReply(secure)).toBe("503 5.5.1 Error: send HELO/EHLO first\r\n");
    await secure.write(encoder.encode("EHLO c.example\r\n"));
    expect(await readReply(secure)).toMatch(/AUTH .*PLAIN/);
    await secure.write(encoder.encode(`AUTH PLAIN ${plain("alice", "alice-password")}\r\n`));
    expect(await readReply(secure)).toBe("235 2.7.0 Authentication successful\r\n");
    await secure.write(encoder.encode("QUIT\r\n"));
    expect(await readReply(secure)).toBe("221 2.0.0 Bye\r\n");
    expect(await secure.read()).toBeNull();
    await driving;
  });

  it("a client that hangs up is logged as a lost connection", async () => {
    const [client, server] = memorySocketPair();
    const t = new Transcript();
    const driving = drive(t.session, server);
    await readReply(client);
    await client.write(encoder.encode("EHLO c.example\r\n"));
    await readReply(client);
    await client.close();
    await driving;
    expect(t.logs).toContain("lost connection after EHLO from client.example[203.0.113.5]");
  });
});
