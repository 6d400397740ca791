// Routes, fail-over, credentials by route, faults and non-delivery reports, end to end on the Node
// runtime's parts (SQLite, bodies on disk, node:net sockets) against real servers: the test
// smarthost (smtp-server) and Postfix's smtp-sink with its fault options.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Settings } from "../../src/core/config/settings.ts";
import { type DeliveryDeps, deliverMessages } from "../../src/core/delivery/deliver.ts";
import { newQueueId } from "../../src/core/ids.ts";
import { openTable } from "../../src/core/maps/open-table.ts";
import type { Logger } from "../../src/core/ports.ts";
import { type AcceptDsn, acceptMessage } from "../../src/core/submission/accept.ts";
import { DbMessageStore } from "../../src/db/message-store.ts";
import { messages } from "../../src/db/schema.ts";
import { DiskBodyStore } from "../../src/node/disk-body-store.ts";
import { connectNode } from "../../src/node/net-socket.ts";
import { applyMigrations, openSqliteDatabase, type SqliteDatabase } from "../../src/node/sqlite-database.ts";
import { type RunningLmtp, startDovecotLmtp } from "../dovecot/dovecot-lmtp.ts";
import { makeTestCertificates } from "../smarthost/certificates.ts";
import { bodyText, type Smarthost, smarthost } from "../smarthost/client.ts";
import { type RunningSmarthost, startSmarthost } from "../smarthost/spawn.ts";
import { parseDump, type RunningSink, startSmtpSink } from "../smtp-sink/smtp-sink-process.ts";

const certificates = makeTestCertificates(path.resolve(".wrangler/test-certs"));
const ca = readFileSync(certificates.caFile);
const scratch = mkdtempSync(path.join(tmpdir(), "postern-routes-"));
const SIZE_LIMIT = 200_000;

let database: SqliteDatabase;
let store: DbMessageStore;
let bodies: DiskBodyStore;
let running: RunningSmarthost;
let sh: Smarthost;
const sinks: RunningSink[] = [];
const lines: string[] = [];
const enqueued: string[] = [];
const logger: Logger = {
  info: (line) => lines.push(line),
  warn: (line) => lines.push(line),
  error: (line) => lines.push(line),
};
/** The clock the delivery agent sees; tests move it forward to make retries due. */
let clock = Date.now();

beforeAll(async () => {
  database = await openSqliteDatabase(path.join(scratch, "routes.db"));
  await applyMigrations(database);
  store = new DbMessageStore(database.db);
  bodies = await DiskBodyStore.open(path.join(scratch, "bodies"));
  running = await startSmarthost({
    SMARTHOST_CERT: certificates.certFile,
    SMARTHOST_KEY: certificates.keyFile,
    SMARTHOST_USERS: "relay:relay-secret,other:other-secret",
    SMARTHOST_SIZE: String(SIZE_LIMIT),
  });
  sh = smarthost(running.json);
});

afterAll(async () => {
  await running?.stop();
  for (const sink of sinks) await sink.stop();
  database?.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(async () => {
  await database.db.delete(messages);
  await sh.clear();
  lines.length = 0;
  enqueued.length = 0;
  clock = Date.now();
});

/** An inline: table; each entry braced, so keys and values may hold spaces and commas. */
const inline = (entries: Record<string, string>) =>
  `inline:{ ${Object.entries(entries)
    .map(([key, value]) => `{ ${key} = ${value} }`)
    .join(", ")} }`;

async function sink(options: string[] = []): Promise<RunningSink> {
  const started = await startSmtpSink(options);
  sinks.push(started);
  return started;
}

const open = () => `[127.0.0.1]:${sh.ports.open}`;
/** A port nothing listens on: connection refused. */
const closed = () => `[127.0.0.1]:${sh.ports.control + 20_000 > 65_535 ? 1 : sh.ports.control + 20_000}`;

function deps(parameters: Record<string, string>, timeouts?: DeliveryDeps["timeouts"]): DeliveryDeps {
  return {
    store,
    bodies,
    queue: {
      async enqueue(ids) {
        enqueued.push(...ids);
      },
    },
    connect: (options) => connectNode({ ...options, ca }),
    logger,
    settings: new Settings({
      myhostname: "postern.test",
      minimal_backoff_time: "1s",
      maximal_backoff_time: "2s",
      smtp_tls_security_level: "none",
      ...parameters,
    }),
    openTable: (spec) => openTable(spec),
    now: () => clock,
    timeouts: timeouts ?? { connect: 5_000, greeting: 5_000, command: 5_000, data: 5_000 },
  };
}

async function submit(
  from: string,
  to: string[],
  options: { body?: string; createdAt?: number; smtputf8?: boolean; dsn?: AcceptDsn } = {},
): Promise<string> {
  const id = newQueueId();
  const body =
    options.body ?? `From: <${from}>\r\nTo: <${to[0]}>\r\nSubject: route test ${id}\r\n\r\nHello ${id}\r\n`;
  await acceptMessage(
    {
      id,
      accountId: null,
      saslUsername: null,
      saslMethod: null,
      clientAddress: "127.0.0.1",
      mailFrom: from,
      recipients: to,
      bytes: new TextEncoder().encode(body),
      headerMessageId: null,
      eightBit: false,
      smtputf8: options.smtputf8 ?? false,
      state: "queued",
      stateReason: null,
      ...(options.dsn ? { dsn: options.dsn } : {}),
    },
    { store, bodies, queue: { enqueue: async () => {} }, logger, now: () => options.createdAt ?? clock },
  );
  return id;
}

async function recipientsOf(id: string) {
  const view = await store.view(id);
  if (!view) throw new Error(`no message ${id}`);
  return view.recipients.map((r) => ({ address: r.address, status: r.status, reply: r.lastReply }));
}

async function lastRelay(id: string): Promise<string> {
  const attempts = await store.attempts(id);
  return attempts.at(-1)?.relay ?? "";
}

/** Queued notifications: the null sender's messages. */
async function notices() {
  const queued = await store.listByState("queued", 100);
  return queued.filter((m) => m.mailFrom === "");
}

describe("relayhost: several destinations, tried in order", () => {
  it("moves on past a refused connection, a 4xx greeting and a 5xx greeting", async () => {
    const busy = await sink(["-r", "connect"]);
    const refusing = await sink(["-f", "connect"]);
    const id = await submit("alice@a.example", ["bob@b.example"]);
    await deliverMessages([id], deps({ relayhost: `${closed()}, ${busy.hop} ${refusing.hop}, ${open()}` }));
    expect(await recipientsOf(id)).toEqual([
      { address: "bob@b.example", status: "sent", reply: expect.stringMatching(/^250 /) },
    ]);
    expect(await lastRelay(id)).toBe(`127.0.0.1[127.0.0.1]:${sh.ports.open}`);
    expect(await sh.messages("bob@b.example")).toHaveLength(1);
  });

  it("moves on when TLS is required and the first host does not offer it", async () => {
    const plaintextOnly = await sink();
    const starttls = `[127.0.0.1]:${sh.ports.starttls}`;
    const id = await submit("alice@a.example", ["tls@b.example"]);
    await deliverMessages(
      [id],
      deps({
        relayhost: `${plaintextOnly.hop}, ${starttls}`,
        smtp_tls_security_level: "encrypt",
        smtp_sasl_auth_enable: "yes",
        smtp_sasl_password_maps: inline({ [starttls]: "relay:relay-secret" }),
      }),
    );
    expect((await recipientsOf(id))[0]!.status).toBe("sent");
    const [received] = await sh.messages("tls@b.example");
    expect(received).toMatchObject({ server: "starttls", secure: true, authUser: "relay" });
    expect(plaintextOnly.transactions()).toHaveLength(0);
  });

  it("defers with the last host's reason when every host fails, and bounces a 5xx greeting only at the last", async () => {
    const busy = await sink(["-r", "connect"]);
    const refusing = await sink(["-f", "connect"]);
    const a = await submit("alice@a.example", ["one@b.example"]);
    await deliverMessages([a], deps({ relayhost: `${refusing.hop}, ${busy.hop}` }));
    expect(await recipientsOf(a)).toEqual([
      {
        address: "one@b.example",
        status: "deferred",
        reply: expect.stringMatching(/^host 127\.0\.0\.1\[127\.0\.0\.1\] refused to talk to me: 4\d\d /),
      },
    ]);
    expect(enqueued).toEqual([a]);

    const b = await submit("alice@a.example", ["two@b.example"]);
    await deliverMessages([b], deps({ relayhost: `${busy.hop}, ${refusing.hop}` }));
    expect((await recipientsOf(b))[0]).toMatchObject({
      status: "bounced",
      reply: expect.stringMatching(/refused to talk to me: 5\d\d /),
    });
  });
});

describe("sender_dependent_relayhost_maps", () => {
  it("routes by sender, then @domain, <> for the null sender, DUNNO and no entry to relayhost", async () => {
    const [bySender, byDomain, byNull, fallback] = await Promise.all([sink(), sink(), sink(), sink()]);
    const table = inline({
      "alice@a.example": bySender.hop,
      "@b.example": byDomain.hop,
      "<>": byNull.hop,
      "carol@b.example": "DUNNO",
    });
    const ids = [
      await submit("alice@a.example", ["r1@x.example"]),
      await submit("bob@b.example", ["r2@x.example"]),
      await submit("", ["r3@x.example"]),
      await submit("carol@b.example", ["r4@x.example"]),
      await submit("dave@d.example", ["r5@x.example"]),
    ];
    await deliverMessages(ids, deps({ relayhost: fallback.hop, sender_dependent_relayhost_maps: table }));
    for (const id of ids) expect((await recipientsOf(id))[0]!.status).toBe("sent");
    const rcpts = (s: RunningSink) => s.transactions().flatMap((t) => parseDump(t).rcptTo);
    expect(rcpts(bySender)).toEqual(["r1@x.example"]);
    expect(rcpts(byDomain)).toEqual(["r2@x.example"]);
    expect(rcpts(byNull)).toEqual(["r3@x.example"]);
    expect(rcpts(fallback).sort()).toEqual(["r4@x.example", "r5@x.example"]);
  });

  it("a route may list several hops, tried in order", async () => {
    const second = await sink();
    const id = await submit("alice@a.example", ["r@x.example"]);
    await deliverMessages(
      [id],
      deps({
        relayhost: open(),
        sender_dependent_relayhost_maps: inline({ "alice@a.example": `${closed()}, ${second.hop}` }),
      }),
    );
    expect((await recipientsOf(id))[0]!.status).toBe("sent");
    expect(second.transactions()).toHaveLength(1);
    expect(await sh.messages()).toHaveLength(0);
  });
});

describe("smtp_sasl_password_maps in Postfix's order", () => {
  const plain = () => `[127.0.0.1]:${sh.ports.plain}`;
  const auth = (table: string, extra: Record<string, string> = {}) =>
    deps({
      relayhost: plain(),
      smtp_sasl_auth_enable: "yes",
      // The "plain" smarthost offers AUTH without TLS; allow it for this test only.
      smtp_sasl_security_options: "noanonymous",
      smtp_sasl_password_maps: table,
      ...extra,
    });

  it("sender, then @domain with smtp_sender_dependent_authentication, then host name, then next hop as written", async () => {
    const table = inline({
      "alice@a.example": "other:other-secret",
      "@b.example": "other:other-secret",
      "127.0.0.1": "relay:relay-secret",
      [plain()]: "nobody:wrong",
    });
    const ids = [
      await submit("alice@a.example", ["k1@x.example"]),
      await submit("bob@b.example", ["k2@x.example"]),
      await submit("carol@c.example", ["k3@x.example"]),
    ];
    await deliverMessages(ids, auth(table, { smtp_sender_dependent_authentication: "yes" }));
    const users = async (rcpt: string) => (await sh.messages(rcpt)).map((m) => m.authUser);
    expect(await users("k1@x.example")).toEqual(["other"]);
    expect(await users("k2@x.example")).toEqual(["other"]);
    // The host name (127.0.0.1) comes before "[127.0.0.1]:port" (smtp_sasl_glue.c).
    expect(await users("k3@x.example")).toEqual(["relay"]);

    // Without sender-dependent authentication the sender entries are not consulted.
    const id = await submit("alice@a.example", ["k4@x.example"]);
    await deliverMessages([id], auth(table));
    expect(await users("k4@x.example")).toEqual(["relay"]);
  });

  it("the next hop exactly as written, and smtp_sasl_password_result_delimiter", async () => {
    const id = await submit("alice@a.example", ["k5@x.example"]);
    await deliverMessages(
      [id],
      auth(inline({ [plain()]: "other|other-secret" }), { smtp_sasl_password_result_delimiter: "|" }),
    );
    expect((await sh.messages("k5@x.example")).map((m) => m.authUser)).toEqual(["other"]);
  });

  it("[host] does not match a relayhost written [host]:port: no credentials, so the server's 530 decides", async () => {
    const id = await submit("alice@a.example", ["k6@x.example"]);
    await deliverMessages([id], auth(inline({ "[127.0.0.1]": "relay:relay-secret" })));
    const [r] = await recipientsOf(id);
    expect(r!.status).not.toBe("sent");
    expect(r!.reply).toMatch(/said: 530 /);
  });
});

/** Python's email package (a parser no one here wrote) reads the report: part types and DSN fields. */
function parseWithPython(message: string) {
  const script = `
import email, json, sys
from email import policy
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.compat32)
parts = [p.get_content_type() for p in m.get_payload()]
status = []
returned = None
for p in m.walk():
    if p.get_content_type() == "message/delivery-status":
        status = [dict(block.items()) for block in p.get_payload()]
    if p.get_content_type() in ("message/rfc822",):
        returned = p.get_payload()[0].as_string()
    if p.get_content_type() == "text/rfc822-headers":
        returned = p.get_payload()
print(json.dumps({"type": m.get_content_type(), "report_type": m.get_param("report-type"), "parts": parts,
  "to": m["To"], "subject": m["Subject"], "status": status, "returned": returned, "defects": [str(d) for p in m.walk() for d in p.defects]}))
`;
  return JSON.parse(execFileSync("python3", ["-c", script], { input: message, encoding: "utf8" })) as {
    type: string;
    report_type: string;
    parts: string[];
    to: string;
    subject: string;
    status: Record<string, string>[];
    returned: string | null;
    defects: string[];
  };
}

describe("delivery status notifications (RFC 3464)", () => {
  it("a 5xx for one recipient: the sender gets a multipart/report through the relay, the original attached", async () => {
    const id = await submit("alice@a.example", ["reject550-x@b.example", "fine@b.example"]);
    await deliverMessages([id], deps({ relayhost: open() }));
    expect((await recipientsOf(id)).map((r) => r.status)).toEqual(["bounced", "sent"]);
    const [notice] = await notices();
    expect(notice).toBeDefined();
    expect(lines).toContain(`${id}: sender non-delivery notification: ${notice!.id}`);

    // The notification is an ordinary queued message: delivered like any other, with the null sender.
    await deliverMessages([notice!.id], deps({ relayhost: open() }));
    const [received] = await sh.messages("alice@a.example");
    expect(received).toMatchObject({ mailFrom: "", rcptTo: ["alice@a.example"] });
    const text = bodyText(received!);
    const parsed = parseWithPython(text);
    expect(parsed).toMatchObject({
      type: "multipart/report",
      report_type: "delivery-status",
      parts: ["text/plain", "message/delivery-status", "message/rfc822"],
      to: "alice@a.example",
      subject: "Undelivered Mail Returned to Sender",
      defects: [],
    });
    expect(parsed.status[0]).toMatchObject({
      "Reporting-MTA": "dns; postern.test",
      "X-Postfix-Queue-ID": id,
      "X-Postfix-Sender": "rfc822; alice@a.example",
    });
    expect(parsed.status.slice(1)).toEqual([
      {
        "Final-Recipient": "rfc822; reject550-x@b.example",
        Action: "failed",
        Status: "5.1.1",
        "Remote-MTA": "dns; 127.0.0.1",
        "Diagnostic-Code":
          "smtp; 550 5.1.1 <reject550-x@b.example>: Recipient address rejected: User unknown",
      },
    ]);
    expect(parsed.returned).toContain(`Subject: route test ${id}`);
    expect(text).toContain(
      "<reject550-x@b.example>: host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <reject550-x@b.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)",
    );
    // The report's own failure would not produce another one: its sender is null.
    expect(notice!.mailFrom).toBe("");
  });

  it("no report for the null sender, and none when nothing bounced", async () => {
    const bounce = await submit("", ["reject550-y@b.example"]);
    const fine = await submit("alice@a.example", ["fine2@b.example"]);
    await deliverMessages([bounce, fine], deps({ relayhost: open() }));
    expect((await recipientsOf(bounce))[0]!.status).toBe("bounced");
    expect((await recipientsOf(fine))[0]!.status).toBe("sent");
    expect(await notices()).toEqual([]);
  });

  it("a large original comes back as its headers only (bounce_size_limit)", async () => {
    const big = `From: <alice@a.example>\r\nSubject: big one\r\n\r\n${"x".repeat(70)}\r\n`.repeat(1);
    const id = await submit("alice@a.example", ["reject550-z@b.example"], {
      body: big + `${"y".repeat(76)}\r\n`.repeat(800),
    });
    await deliverMessages([id], deps({ relayhost: open() }));
    const [notice] = await notices();
    await deliverMessages([notice!.id], deps({ relayhost: open() }));
    const parsed = parseWithPython(bodyText((await sh.messages("alice@a.example"))[0]!));
    expect(parsed.parts).toContain("text/rfc822-headers");
    expect(parsed.returned).toContain("Subject: big one");
    expect(parsed.returned).not.toContain("yyyy");
  });

  it("maximal_queue_lifetime: a recipient still deferred when the message expires bounces, with a report", async () => {
    const day = 86_400_000;
    const id = await submit("alice@a.example", ["defer451-old@b.example"], { createdAt: clock - 6 * day });
    await deliverMessages([id], deps({ relayhost: open() }));
    const [r] = await recipientsOf(id);
    expect(r).toMatchObject({
      status: "bounced",
      reply: expect.stringMatching(/^message expired in the queue; last error: host .* said: 451 4\.3\.0 /),
    });
    expect(enqueued).not.toContain(id);
    const [notice] = await notices();
    await deliverMessages([notice!.id], deps({ relayhost: open() }));
    const parsed = parseWithPython(bodyText((await sh.messages("alice@a.example"))[0]!));
    expect(parsed.status[1]).toMatchObject({
      "Final-Recipient": "rfc822; defer451-old@b.example",
      Action: "failed",
      Status: "4.3.0",
      "Diagnostic-Code": "smtp; 451 4.3.0 <defer451-old@b.example>: Temporary failure",
    });
  });
});

describe("DSN parameters of the submission (RFC 3461)", () => {
  const dsn: AcceptDsn = {
    ret: "HDRS",
    envid: "env+id 1",
    recipients: [
      { notify: "FAILURE,DELAY", orcpt: "rfc822;Orig=1@b.example" },
      { notify: "NEVER", orcpt: null },
      { notify: null, orcpt: null },
    ],
  };

  it("travel on as RET, ENVID, NOTIFY and ORCPT (xtext) to a server that offers DSN", async () => {
    const withDsn = await sink();
    const id = await submit("alice@a.example", ["d1@b.example", "d2@b.example", "d3@b.example"], { dsn });
    await deliverMessages([id], deps({ relayhost: withDsn.hop }));
    const [dump] = withDsn.transactions().map(parseDump);
    expect(dump!.mailArgs).toMatch(/^<alice@a\.example> RET=HDRS ENVID=env\+2Bid\+201$/);
    expect(withDsn.transactions()[0]).toContain(
      "X-Rcpt-Args: <d1@b.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;Orig+3D1@b.example",
    );
    expect(withDsn.transactions()[0]).toContain("X-Rcpt-Args: <d2@b.example> NOTIFY=NEVER\n");
    expect(withDsn.transactions()[0]).toContain("X-Rcpt-Args: <d3@b.example>\n");
  });

  it("are left off for a server without DSN (smtp-sink -N)", async () => {
    const without = await sink(["-N"]);
    const id = await submit("alice@a.example", ["d4@b.example"], {
      dsn: { ...dsn, recipients: [dsn.recipients[0]!] },
    });
    await deliverMessages([id], deps({ relayhost: without.hop }));
    const [dump] = without.transactions().map(parseDump);
    expect(dump!.mailArgs).toMatch(/^<alice@a\.example>$/);
    expect(without.transactions()[0]).toContain("X-Rcpt-Args: <d4@b.example>\n");
  });

  it("shape the report: RET=HDRS returns headers, ENVID and ORCPT are quoted, NOTIFY=NEVER gets none", async () => {
    const id = await submit(
      "alice@a.example",
      ["reject550-a@b.example", "reject550-b@b.example", "reject550-c@b.example"],
      {
        dsn,
      },
    );
    await deliverMessages([id], deps({ relayhost: open() }));
    const [notice] = await notices();
    await deliverMessages([notice!.id], deps({ relayhost: open() }));
    const parsed = parseWithPython(bodyText((await sh.messages("alice@a.example"))[0]!));
    expect(parsed.parts).toEqual(["text/plain", "message/delivery-status", "text/rfc822-headers"]);
    expect(parsed.status[0]).toMatchObject({ "Original-Envelope-Id": "env+id 1" });
    expect(parsed.status.slice(1).map((s) => [s["Original-Recipient"], s["Final-Recipient"]])).toEqual([
      ["rfc822; Orig=1@b.example", "rfc822; reject550-a@b.example"],
      [undefined, "rfc822; reject550-c@b.example"],
    ]);
    expect(parsed.returned).toContain(`Subject: route test ${id}`);
    expect(parsed.returned).not.toContain("Hello");
  });

  it("NEVER for every bounced recipient: no report at all", async () => {
    const id = await submit("alice@a.example", ["reject550-n@b.example"], {
      dsn: { ret: null, envid: null, recipients: [{ notify: "NEVER", orcpt: null }] },
    });
    await deliverMessages([id], deps({ relayhost: open() }));
    expect((await recipientsOf(id))[0]!.status).toBe("bounced");
    expect(await notices()).toEqual([]);
  });
});

describe("sessions", () => {
  it("one session carries a whole batch that shares route and credential; parallel ones stay within the limit", async () => {
    const batch = async (count: number, tag: string) => {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push(await submit("alice@a.example", [`${tag}${i}@b.example`]));
      return ids;
    };
    const one = await batch(6, "serial");
    await deliverMessages(one, deps({ relayhost: open(), smtp_destination_concurrency_limit: "1" }));
    const serial = await sh.messages();
    expect(serial).toHaveLength(6);
    expect(new Set(serial.map((m) => m.connection)).size).toBe(1);

    await sh.clear();
    const many = await batch(12, "parallel");
    await deliverMessages(many, deps({ relayhost: open(), smtp_destination_concurrency_limit: "3" }));
    const parallel = await sh.messages();
    expect(parallel.map((m) => m.rcptTo[0]).sort()).toEqual(
      Array.from({ length: 12 }, (_, i) => `parallel${i}@b.example`).sort(),
    );
    expect(new Set(parallel.map((m) => m.connection)).size).toBeLessThanOrEqual(3);
    for (const id of many) expect((await recipientsOf(id))[0]!.status).toBe("sent");
  });
});

describe("faults with real servers: the right retry or bounce, nothing lost, nothing sent twice", () => {
  it("421 in the middle of a session: what was accepted stays sent, the rest is retried on a new session", async () => {
    const ids = [
      await submit("alice@a.example", ["m1@b.example"]),
      await submit("alice@a.example", ["quit421@b.example"]),
      await submit("alice@a.example", ["m3@b.example"]),
    ];
    await deliverMessages(ids, deps({ relayhost: open(), smtp_destination_concurrency_limit: "1" }));
    expect((await recipientsOf(ids[0]!))[0]!.status).toBe("sent");
    expect(await recipientsOf(ids[1]!)).toEqual([
      {
        address: "quit421@b.example",
        status: "deferred",
        reply: expect.stringMatching(
          /^host 127\.0\.0\.1\[127\.0\.0\.1\] said: 421 4\.3\.2 .* \(in reply to RCPT TO command\)$/,
        ),
      },
    ]);
    expect((await recipientsOf(ids[2]!))[0]!.status).toBe("sent");
    const received = await sh.messages();
    expect(received.map((m) => m.rcptTo[0]).sort()).toEqual(["m1@b.example", "m3@b.example"]);
    // Two connections: the 421 ended the first.
    expect(new Set(received.map((m) => m.connection)).size).toBe(2);
    expect(enqueued).toEqual([ids[1]]);
  });

  it("421 and disconnect at the end of data (smtp-sink -Q .): deferred, then delivered once on retry", async () => {
    const quitting = await sink(["-Q", "."]);
    const healthy = await sink();
    const id = await submit("alice@a.example", ["q@b.example"]);
    await deliverMessages([id], deps({ relayhost: quitting.hop }));
    expect((await recipientsOf(id))[0]).toMatchObject({
      status: "deferred",
      reply: expect.stringMatching(/said: 421 .*\(in reply to end of DATA command\)$/),
    });
    clock += 5_000;
    await deliverMessages([id], deps({ relayhost: healthy.hop }));
    expect((await recipientsOf(id))[0]!.status).toBe("sent");
    expect(healthy.transactions().map((t) => parseDump(t).rcptTo)).toEqual([["q@b.example"]]);
  });

  it("connection dropped mid-DATA: deferred, never recorded as sent", async () => {
    const id = await submit("alice@a.example", ["dropdata@b.example"]);
    await deliverMessages([id], deps({ relayhost: open() }));
    expect((await recipientsOf(id))[0]).toMatchObject({
      status: "deferred",
      reply: expect.stringMatching(
        /^lost connection with 127\.0\.0\.1\[127\.0\.0\.1\] while sending (message body|end of data)/,
      ),
    });
    expect(await sh.messages()).toEqual([]);
    expect(enqueued).toEqual([id]);
  });

  it("disconnect after the end of data without a reply (smtp-sink -q .): deferred, Postfix's warning", async () => {
    const dropping = await sink(["-q", "."]);
    const id = await submit("alice@a.example", ["dot@b.example"]);
    await deliverMessages([id], deps({ relayhost: dropping.hop }));
    expect((await recipientsOf(id))[0]).toMatchObject({
      status: "deferred",
      reply:
        "lost connection with 127.0.0.1[127.0.0.1] while sending end of data -- message may be sent more than once",
    });
  });

  it("a server slow past the data timeout (smtp-sink -W .:3): deferred as timed out", async () => {
    const slow = await sink(["-W", ".:3"]);
    const id = await submit("alice@a.example", ["slow@b.example"]);
    await deliverMessages(
      [id],
      deps({ relayhost: slow.hop }, { connect: 5_000, greeting: 5_000, command: 5_000, data: 500 }),
    );
    expect((await recipientsOf(id))[0]).toMatchObject({
      status: "deferred",
      reply:
        "conversation with 127.0.0.1[127.0.0.1] timed out while sending end of data -- message may be sent more than once",
    });
  });

  it("a server slow past the greeting timeout moves on to the next host", async () => {
    const slow = await sink(["-W", "connect:3"]);
    const id = await submit("alice@a.example", ["slowgreet@b.example"]);
    await deliverMessages(
      [id],
      deps(
        { relayhost: `${slow.hop}, ${open()}` },
        { connect: 5_000, greeting: 500, command: 5_000, data: 5_000 },
      ),
    );
    expect((await recipientsOf(id))[0]!.status).toBe("sent");
    expect(await sh.messages("slowgreet@b.example")).toHaveLength(1);
  });

  it("QUIT never hangs: a server that does not answer it (smtp-sink -W quit:60) holds nothing up", async () => {
    const mute = await sink(["-W", "quit:60"]);
    const id = await submit("alice@a.example", ["quit@b.example"]);
    // The relay timeouts are 60 s here: waiting for the 221 would outlast the test's own timeout.
    await deliverMessages(
      [id],
      deps({ relayhost: mute.hop }, { connect: 60_000, greeting: 60_000, command: 60_000, data: 60_000 }),
    );
    expect((await recipientsOf(id))[0]!.status).toBe("sent");
  });

  it("SIZE: a message over the server's limit bounces before DATA with Postfix's reason", async () => {
    const id = await submit("alice@a.example", ["big@b.example"], {
      body: `Subject: big\r\n\r\n${`${"z".repeat(98)}\r\n`.repeat(2_100)}`,
    });
    await deliverMessages([id], deps({ relayhost: open() }));
    const view = await store.view(id);
    expect((await recipientsOf(id))[0]).toEqual({
      address: "big@b.example",
      status: "bounced",
      reply: `message size ${view!.message.size} exceeds size limit ${SIZE_LIMIT} of server 127.0.0.1[127.0.0.1]`,
    });
    expect(await sh.messages()).toEqual([]);
  });

  it("SMTPUTF8 needed, not offered (smtp-sink): bounces as Postfix does", async () => {
    const plain = await sink();
    const id = await submit("alice@a.example", ["jörg@b.example"], { smtputf8: true });
    await deliverMessages([id], deps({ relayhost: plain.hop }));
    expect((await recipientsOf(id))[0]).toMatchObject({
      status: "bounced",
      reply: "SMTPUTF8 is required, but was not offered by host 127.0.0.1[127.0.0.1]",
    });
  });
});

describe("LMTP next hops: a real Dovecot LMTP server", () => {
  let lmtp: RunningLmtp;
  beforeAll(async () => {
    lmtp = await startDovecotLmtp();
  });
  afterAll(async () => {
    await lmtp?.remove();
  });

  it.each([
    { via: "lmtp:[127.0.0.1]:port", hop: () => `lmtp:[127.0.0.1]:${lmtp.port}` },
    { via: "lmtp:unix:/path", hop: () => `lmtp:unix:${lmtp.socketPath}` },
  ])("LHLO, and one reply per recipient after DATA ($via)", async ({ hop }) => {
    // Maildir file names do not sort by arrival within a second: compare contents, not positions.
    const before = new Set(lmtp.mailbox("alice@lmtp.test"));
    const id = await submit("sender@a.example", ["alice@lmtp.test", "bob@lmtp.test", "nobody@lmtp.test"]);
    const second = await submit("sender@a.example", ["alice@lmtp.test"]);
    await deliverMessages([id, second], deps({ relayhost: hop() }));
    const peer = hop().includes("unix:") ? `${lmtp.socketPath}[${lmtp.socketPath}]` : "127.0.0.1[127.0.0.1]";
    expect(await recipientsOf(id)).toEqual([
      {
        address: "alice@lmtp.test",
        status: "sent",
        reply: expect.stringMatching(/^250 2\.0\.0 <alice@lmtp\.test> \S+ Saved$/),
      },
      {
        address: "bob@lmtp.test",
        status: "bounced",
        reply: `host ${peer} said: 552 5.2.2 <bob@lmtp.test> Quota exceeded (mailbox for user is full) (in reply to end of DATA command)`,
      },
      {
        address: "nobody@lmtp.test",
        status: "bounced",
        reply: `host ${peer} said: 550 5.1.1 <nobody@lmtp.test> User doesn't exist: nobody@lmtp.test (in reply to RCPT TO command)`,
      },
    ]);
    expect((await recipientsOf(second))[0]!.status).toBe("sent");
    const delivered = lmtp.mailbox("alice@lmtp.test").filter((m) => !before.has(m));
    expect(delivered).toHaveLength(2);
    expect(delivered.some((m) => m.includes(`Subject: route test ${id}`))).toBe(true);

    const [notice] = await notices();
    await deliverMessages([notice!.id], deps({ relayhost: open() }));
    const parsed = parseWithPython(bodyText((await sh.messages("sender@a.example"))[0]!));
    expect(parsed.status.slice(1).map((s) => [s["Final-Recipient"], s.Status, s["Diagnostic-Code"]])).toEqual(
      [
        [
          "rfc822; bob@lmtp.test",
          "5.2.2",
          "lmtp; 552 5.2.2 <bob@lmtp.test> Quota exceeded (mailbox for user is full)",
        ],
        [
          "rfc822; nobody@lmtp.test",
          "5.1.1",
          "lmtp; 550 5.1.1 <nobody@lmtp.test> User doesn't exist: nobody@lmtp.test",
        ],
      ],
    );
  });
});
