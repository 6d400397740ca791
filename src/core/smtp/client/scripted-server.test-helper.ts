// A scripted SMTP peer for the relay client's tests: it reads what the client writes over an
// in-memory socket, answers by a small table of defaults that a test overrides per command, and
// records every write, command line and DATA payload byte for byte.
import { memorySocketPair } from "../../net/memory-socket.ts";
import type { Connect, ConnectOptions, Socket } from "../../net/socket.ts";

/** A reply (CRLF added per line), or a reply with what happens after it. */
export type Answer = string | { reply?: string; after?: "close" | "abort" | "hang" };

export interface Script {
  greeting?: Answer;
  /** EHLO keyword lines after the greeting line; may differ once TLS is up. */
  ehlo?: readonly string[] | ((secure: boolean) => readonly string[]);
  /** Overrides the default answer to a command (or AUTH continuation) line; undefined: default. */
  answer?: (line: string, server: ScriptedServer) => Answer | undefined;
  /** The answer to the end of DATA; gets the payload as received (still dot-stuffed). */
  onData?: (payload: Uint8Array) => Answer;
  /** Called as DATA bytes arrive; "close"/"abort" drops the connection mid-DATA. */
  onDataChunk?: (received: number) => "close" | "abort" | undefined;
}

const DEFAULT_EHLO = ["PIPELINING", "SIZE 10240000", "8BITMIME", "ENHANCEDSTATUSCODES"];
const LOGIN_PROMPTS = ["334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6"];

export class ScriptedServer {
  /** Command lines (and AUTH continuation lines) in arrival order, over all connections. */
  readonly lines: string[] = [];
  /** Every client write as one latin1 string (one write arrives as one read). */
  readonly writes: string[] = [];
  /** DATA payloads as received, before un-stuffing, without the final ".\r\n". */
  readonly messages: Uint8Array[] = [];
  readonly connects: ConnectOptions[] = [];
  /** The client's side in order: "W:" + what it wrote, "R:" + what it read (to see lock-step). */
  readonly clientLog: string[] = [];
  /** Resolves when the last started connection's loop has ended. */
  done: Promise<void> = Promise.resolve();
  readonly #script: Script;

  constructor(script: Script = {}) {
    this.#script = script;
  }

  readonly connect: Connect = async (options) => {
    this.connects.push(options);
    const [client, server] = memorySocketPair();
    this.done = this.#serve(server, options.tls === "on");
    return this.#logged(options.tls === "on" ? await client.startTls() : client);
  };

  #logged(socket: Socket): Socket {
    const log = this.clientLog;
    return {
      read: async () => {
        const bytes = await socket.read();
        if (bytes) log.push(`R:${latin1(bytes)}`);
        return bytes;
      },
      write: (bytes) => {
        log.push(`W:${latin1(bytes)}`);
        return socket.write(bytes);
      },
      startTls: async () => this.#logged(await socket.startTls()),
      close: () => socket.close(),
      get secure() {
        return socket.secure;
      },
    };
  }

  async #serve(plain: Socket, implicitTls: boolean): Promise<void> {
    let socket = implicitTls ? await plain.startTls() : plain;
    let buffer: Uint8Array = new Uint8Array(0);
    let mode: "command" | "data" = "command";
    let loginPrompts: string[] = [];
    let inAuth = false;
    let dataBytes = 0;

    const send = async (answer: Answer): Promise<"go" | "stop"> => {
      const { reply, after } = typeof answer === "string" ? { reply: answer, after: undefined } : answer;
      if (reply !== undefined) await socket.write(latin1Bytes(`${reply.replace(/\r?\n/g, "\r\n")}\r\n`));
      if (after === "close") await socket.close();
      if (after === "abort") (socket as { abort?: () => void }).abort?.();
      return after ? "stop" : "go";
    };

    if ((await send(this.#script.greeting ?? "220 mx.test ESMTP Postfix")) === "stop") return;
    for (;;) {
      if (mode === "data") {
        const end = endOfData(buffer);
        if (end) {
          this.messages.push(buffer.slice(0, end.payload));
          buffer = buffer.slice(end.next);
          mode = "command";
          const answer = this.#script.onData?.(this.messages.at(-1)!) ?? "250 2.0.0 Ok: queued as ABC";
          if ((await send(answer)) === "stop") return;
          continue;
        }
      } else {
        const lf = buffer.indexOf(0x0a);
        if (lf !== -1) {
          const line = latin1(buffer.subarray(0, buffer[lf - 1] === 0x0d ? lf - 1 : lf));
          buffer = buffer.slice(lf + 1);
          this.lines.push(line);
          const verb = line.split(" ", 1)[0]!.toUpperCase();
          let answer = this.#script.answer?.(line, this);
          if (inAuth || verb === "AUTH") {
            if (verb === "AUTH") loginPrompts = /^AUTH LOGIN$/i.test(line) ? [...LOGIN_PROMPTS] : [];
            if (line === "*") answer ??= "501 5.7.0 Authentication aborted";
            answer ??= loginPrompts.shift() ?? "235 2.7.0 Authentication successful";
            inAuth = replyOf(answer).startsWith("334");
          }
          answer ??= this.#default(verb, socket.secure);
          if ((await send(answer)) === "stop") return;
          if (verb === "DATA" && replyOf(answer).startsWith("354")) {
            mode = "data";
            dataBytes = 0;
          }
          if (verb === "STARTTLS" && replyOf(answer).startsWith("220")) {
            socket = await socket.startTls();
            buffer = new Uint8Array(0); // RFC 3207 §6: plaintext pipelined after STARTTLS is discarded
          }
          continue;
        }
      }
      const chunk = await socket.read().catch(() => null);
      if (!chunk) return;
      this.writes.push(latin1(chunk));
      buffer = concat(buffer, chunk);
      if (mode === "data") {
        dataBytes += chunk.length;
        const drop = this.#script.onDataChunk?.(dataBytes);
        if (drop) return void (await send({ after: drop }));
      }
    }
  }

  #default(verb: string, secure: boolean): Answer {
    switch (verb) {
      case "EHLO": {
        const ehlo = this.#script.ehlo;
        const keywords = typeof ehlo === "function" ? ehlo(secure) : (ehlo ?? DEFAULT_EHLO);
        return ["mx.test", ...keywords]
          .map((k, i, all) => `250${i < all.length - 1 ? "-" : " "}${k}`)
          .join("\n");
      }
      case "HELO":
        return "250 mx.test";
      case "STARTTLS":
        return "220 2.0.0 Ready to start TLS";
      case "MAIL":
        return "250 2.1.0 Ok";
      case "RCPT":
        return "250 2.1.5 Ok";
      case "DATA":
        return "354 End data with <CR><LF>.<CR><LF>";
      case "RSET":
        return "250 2.0.0 Ok";
      case "QUIT":
        return { reply: "221 2.0.0 Bye", after: "close" };
      default:
        return "502 5.5.2 Error: command not recognized";
    }
  }
}

function replyOf(answer: Answer): string {
  return (typeof answer === "string" ? answer : answer.reply) ?? "";
}

/** Where the payload ends and the next command starts, once "\r\n.\r\n" (or a leading ".\r\n") is in. */
function endOfData(buffer: Uint8Array): { payload: number; next: number } | null {
  if (buffer[0] === 0x2e && buffer[1] === 0x0d && buffer[2] === 0x0a) return { payload: 0, next: 3 };
  for (let i = buffer.indexOf(0x0d); i !== -1 && i + 4 < buffer.length; i = buffer.indexOf(0x0d, i + 1)) {
    if (
      buffer[i + 1] === 0x0a &&
      buffer[i + 2] === 0x2e &&
      buffer[i + 3] === 0x0d &&
      buffer[i + 4] === 0x0a
    ) {
      return { payload: i + 2, next: i + 5 };
    }
  }
  return null;
}

export function latin1(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}

export function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
