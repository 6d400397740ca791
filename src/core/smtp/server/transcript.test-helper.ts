// Test support: an SMTP session wired to real ports (the mechanism table over in-memory
// credentials, evaluateRecipient over inline tables, an in-memory accept) and a small transcript
// DSL:
//
//   const t = await transcript();          // greeted: the 220 is consumed
//   await t.send("EHLO c.example\r\n");
//   t.expect(/^250-mx.postern.test/);      // the next reply, whole (lines joined by CRLF)
//   t.expectClose();
import { expect } from "vitest";
import { type RawSettings, Settings } from "../../config/settings.ts";
import { openTable } from "../../maps/open-table.ts";
import type { SaslServerContext } from "../../sasl/mechanism.ts";
import { type TestAccount, testContext } from "../../sasl/memory-credentials.test-helper.ts";
import { restrictionPolicy } from "./restriction-policy.ts";
import { saslAuthPort } from "./sasl-auth-port.ts";
import { sessionConfig } from "./session-config.ts";
import type {
  AcceptResult,
  AuthPort,
  ClientInfo,
  Envelope,
  MessageWriter,
  PolicyPort,
  RateCounter,
  SessionOutput,
  TlsInfo,
} from "./session-ports.ts";
import { SmtpSession } from "./smtp-session.ts";

export const HOST = "mx.postern.test";
export const STRANGER: ClientInfo = { address: "203.0.113.5", name: "client.example" };
export const NOW = Date.UTC(2025, 6, 1, 9, 5, 0);

export const ACCOUNTS: Record<string, TestAccount> = {
  alice: { password: "alice-password" },
  bob: { password: "bob-password", mayActAs: ["shared"] },
};

/** main.cf for the tests: mail to postern.test is local, alice and bob own their addresses. */
export const TEST_SETTINGS: RawSettings = {
  myhostname: HOST,
  mydestination: "postern.test",
  smtpd_sender_login_maps:
    "inline:{ alice@example.com=alice, bob@example.com=bob, shared@example.com=shared }",
  smtpd_recipient_restrictions: "",
};

/**
 * The listener's parameters for the transcripts: most exercise the plaintext phase, so TLS is
 * offered rather than required (Postern's default is encrypt; tests of it say so).
 */
export const TEST_SMTPD: RawSettings = { smtpd_sasl_auth_enable: "yes", smtpd_tls_security_level: "may" };

export interface TranscriptOptions {
  settings?: RawSettings;
  smtpd?: RawSettings;
  client?: ClientInfo;
  /** Implicit TLS from the start. */
  tls?: TlsInfo | null;
  tlsAvailable?: boolean;
  accounts?: Record<string, TestAccount>;
  /** Overrides for the SASL context of every exchange. */
  context?: Partial<SaslServerContext>;
  /** Replaces the SASL port; null: none. */
  auth?: AuthPort | null;
  policy?: PolicyPort;
  accept?: (envelope: Envelope, message: Uint8Array) => Promise<AcceptResult>;
  /** A streaming accept port (AcceptPort.open); without it the session collects the message. */
  open?: (envelope: Envelope) => Promise<MessageWriter>;
  authRate?: RateCounter;
  /** Skip greet(): the test drives it. */
  greet?: false;
}

export interface Accepted {
  envelope: Envelope;
  message: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Transcript {
  readonly session: SmtpSession;
  readonly logs: string[] = [];
  readonly accepted: Accepted[] = [];
  readonly settings: Settings;
  #outputs: SessionOutput[] = [];
  #queueIds = 0;

  constructor(options: TranscriptOptions = {}) {
    const settings = new Settings(TEST_SETTINGS, options.settings ?? {});
    this.settings = settings;
    const accounts = options.accounts ?? ACCOUNTS;
    const auth =
      options.auth === undefined
        ? saslAuthPort({
            settings,
            context: (transport) =>
              testContext(accounts, {
                channelBinding: transport.channelBinding,
                externalIdentity: transport.externalIdentity,
                ...options.context,
              }),
          })
        : options.auth;
    const log = (level: string) => (line: string) => {
      this.logs.push(level === "info" ? line : `${level}: ${line}`);
    };
    this.session = new SmtpSession({
      config: sessionConfig(settings, { ...TEST_SMTPD, ...options.smtpd }),
      client: options.client ?? STRANGER,
      tls: options.tls ?? null,
      tlsAvailable: options.tlsAvailable ?? true,
      ports: {
        ...(auth ? { auth } : {}),
        policy: options.policy ?? restrictionPolicy(settings, (spec) => openTable(spec)),
        accept: {
          accept: async (envelope, message) => {
            if (options.accept) return options.accept(envelope, message);
            this.accepted.push({ envelope, message: decoder.decode(message) });
            return { ok: true, queueId: envelope.queueId };
          },
          ...(options.open ? { open: options.open } : {}),
        },
        clock: { now: () => NOW },
        logger: { info: log("info"), warn: log("warn"), error: log("error") },
        queueId: () => `QID${++this.#queueIds}`,
        ...(options.authRate ? { authRate: options.authRate } : {}),
      },
    });
  }

  async greet(): Promise<void> {
    this.#outputs.push(...(await this.session.greet()));
  }

  /** Feeds bytes (a string is UTF-8 encoded) and queues the outputs for expect(). */
  async send(input: string | Uint8Array): Promise<SessionOutput[]> {
    const outputs = await this.session.feed(typeof input === "string" ? encoder.encode(input) : input);
    this.#outputs.push(...outputs);
    return outputs;
  }

  /** The next output must be a reply matching `want` (a string matches the whole reply). */
  expect(want: string | RegExp): string {
    const output = this.#outputs.shift();
    expect(output, `expected a reply matching ${want}`).toBeDefined();
    expect(output?.kind, `expected a reply matching ${want}, got ${JSON.stringify(output)}`).toBe("reply");
    const text = (output as { text: string }).text;
    expect(text.endsWith("\r\n"), "a reply ends in CRLF").toBe(true);
    const reply = text.slice(0, -2);
    if (typeof want === "string") expect(reply).toBe(want);
    else expect(reply).toMatch(want);
    return reply;
  }

  expectClose(): void {
    expect(this.#outputs.shift()).toEqual({ kind: "close" });
  }

  expectStartTls(): void {
    expect(this.#outputs.shift()).toEqual({ kind: "starttls" });
  }

  expectDelay(ms = 1000): void {
    expect(this.#outputs.shift()).toEqual({ kind: "delay", ms });
  }

  /** Nothing more was output. */
  expectNothing(): void {
    expect(this.#outputs).toEqual([]);
  }

  /** The replies still queued, in order (other outputs dropped). */
  drain(): string[] {
    const replies = this.#outputs.flatMap((output) =>
      output.kind === "reply" ? [output.text.slice(0, -2)] : [],
    );
    this.#outputs = [];
    return replies;
  }

  async ehlo(name = "c.example"): Promise<string> {
    await this.send(`EHLO ${name}\r\n`);
    return this.expect(/^250-/);
  }

  /** AUTH PLAIN with an initial response; expects 235. */
  async login(user: string, password: string): Promise<void> {
    await this.send(`AUTH PLAIN ${plain(user, password)}\r\n`);
    this.expect("235 2.7.0 Authentication successful");
  }

  /** MAIL FROM and each RCPT TO, each expected to succeed. */
  async envelope(sender: string, ...recipients: string[]): Promise<void> {
    await this.send(`MAIL FROM:<${sender}>\r\n`);
    this.expect("250 2.1.0 Ok");
    for (const recipient of recipients) {
      await this.send(`RCPT TO:<${recipient}>\r\n`);
      this.expect("250 2.1.5 Ok");
    }
  }
}

export async function transcript(options: TranscriptOptions = {}): Promise<Transcript> {
  const t = new Transcript(options);
  if (options.greet !== false) {
    await t.greet();
    t.expect(`220 ${HOST} ESMTP Postern`);
  }
  return t;
}

/** An implicit-TLS transcript that has said EHLO (PLAIN is offered inside TLS). */
export async function tlsTranscript(options: TranscriptOptions = {}): Promise<Transcript> {
  const t = await transcript({ tls: {}, ...options });
  await t.ehlo();
  return t;
}

export function base64(text: string | Uint8Array): string {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  return btoa(String.fromCharCode(...bytes));
}

export function unbase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** The base64 PLAIN initial response. */
export function plain(user: string, password: string, authzid = ""): string {
  return base64(`${authzid}\0${user}\0${password}`);
}
