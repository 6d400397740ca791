// `npm run admin -- <command>`: the saslpasswd2 / postmap / postconf / postqueue of Postern, over
// the admin API of a running gateway (local `npm start` by default, or POSTERN_URL).
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type GenAuthMechanism, genAuth } from "./gen-auth.ts";
import { testSaslAuth } from "./testsaslauthd.ts";

const USAGE = `usage: npm run admin -- <command>

  account list
  account add <login> [--password <p>|-] [--iterations <n>] [--shared-secret] [--note <text>]
                                   (no --password: one is generated and printed once)
  account passwd <login> [--password <p>|-] [--shared-secret]
                                   --shared-secret: also keep the sealed secret CRAM-MD5/DIGEST-MD5 need
  account disable <login> | account enable <login> | account del <login>
  map list <table>
  map set <table> <key> <value> [--secret]      e.g. map set sender_login alice@example.com alice@example.com
  map del <table> <key>
  relay oauth2 list
  relay oauth2 set <name> --token-endpoint <url> --client-id <id> [--client-secret <s>]
                   --refresh-token <t>|- [--scope <scope>]
                                   an OAuth2 smarthost credential (XOAUTH2/OAUTHBEARER); point a
                                   password map at it: map set sasl_passwd [smtp.office365.com]:587 user@example.com:oauth2:<name>
  relay oauth2 del <name>
  relay auth-cache [list] | relay auth-cache clear [--user <username>]
                                   credentials a smarthost refused (smtp_sasl_auth_cache_name)
  relay reseal                     after prepending a new key to POSTERN_SECRET_KEY: re-seal every secret with it
  postconf [name ...]              show parameters (all, or the ones named)
  postconf -e name=value ...       set parameters
  postconf -X name ...             reset parameters to their defaults
  queue [queued|held|done|discarded]
  queue show <id> | queue release <id> | queue delete <id> | queue flush
  template list <login> | template show <login> <name> | template del <login> <name>
  template set <login> <name> --subject <s> [--text-file <f>] [--html-file <f>]
                                   {{ name }} placeholders; HTML-escaped in html, as is in subject and text
  receiver list | receiver show <id> | receiver del <id> | receiver disable <id> | receiver enable <id>
  receiver add <login> supabase|clerk|generic --config '<json>' [--signing-secret <whsec_...>]
                                   prints the path to give the provider (and the secret, if made here)
  receiver secret <id> <whsec_...> [<whsec_...>]  replace the signing secrets (two while rotating)
  endpoint list [<login>] | endpoint show <id> | endpoint del <id> | endpoint events <id>
  endpoint add <login> <url> [--events message.sent,message.bounced,...]   prints the whsec_ secret once
  endpoint enable <id> | endpoint disable <id> | endpoint rotate <id>
  testsaslauthd -u <user> -p <password>|- [-m <mechanism>] [-s <service>] [--hostname <name>]
                                   a full SASL exchange against the gateway (default PLAIN)
  gen-auth plain|login|xoauth2 <user> <password-or-token> [<authzid>]
                                   the base64 an SMTP client sends for AUTH

environment: POSTERN_URL (default http://127.0.0.1:8787), POSTERN_ADMIN_TOKEN (default: the one
             \`npm start\` keeps in data/secrets.env, or \`npm run dev\`'s .dev.vars)`;

/**
 * Admin tokens to try, in order: POSTERN_ADMIN_TOKEN alone when set; otherwise the local ones —
 * `npm start`'s data/secrets.env, then `npm run dev`'s .dev.vars. Both can exist on one machine
 * and both gateways listen on 8787, so a 401 with one moves on to the next.
 */
function adminTokens(): string[] {
  if (process.env.POSTERN_ADMIN_TOKEN) return [process.env.POSTERN_ADMIN_TOKEN];
  const tokens: string[] = [];
  for (const file of [`${process.env.POSTERN_DATA_DIR || "data"}/secrets.env`, ".dev.vars"]) {
    if (!existsSync(file)) continue;
    const match = /^POSTERN_ADMIN_TOKEN=(.+)$/m.exec(readFileSync(file, "utf8"));
    if (match) tokens.push(match[1]!.trim());
  }
  if (tokens.length === 0) {
    fail("set POSTERN_ADMIN_TOKEN (or run `npm start` once: it keeps one in data/secrets.env)");
  }
  return tokens;
}

function fail(message: string): never {
  console.error(`admin: ${message}`);
  process.exit(2);
}

async function api(method: string, path: string, body?: unknown): Promise<unknown> {
  const base = process.env.POSTERN_URL ?? "http://127.0.0.1:8787";
  const tokens = adminTokens();
  let response: Response | undefined;
  for (const token of tokens) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    try {
      response = await fetch(`${base}/v1/admin${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      fail(`cannot reach ${base}: ${(error as Error).message}`);
    }
    if (response.status !== 401) break;
  }
  if (!response) fail("no admin token");
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) fail(`${response.status}: ${json?.detail ?? json?.title ?? text}`);
  return json;
}

async function readPassword(value: string | undefined): Promise<string | undefined> {
  if (value !== "-") return value;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

const enc = encodeURIComponent;

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      password: { type: "string", short: "p" },
      user: { type: "string", short: "u" },
      mechanism: { type: "string", short: "m" },
      service: { type: "string", short: "s" },
      hostname: { type: "string" },
      iterations: { type: "string" },
      note: { type: "string" },
      secret: { type: "boolean" },
      "shared-secret": { type: "boolean" },
      subject: { type: "string" },
      "text-file": { type: "string" },
      "html-file": { type: "string" },
      config: { type: "string" },
      "signing-secret": { type: "string" },
      events: { type: "string" },
      "token-endpoint": { type: "string" },
      "client-id": { type: "string" },
      "client-secret": { type: "string" },
      "refresh-token": { type: "string" },
      scope: { type: "string" },
      e: { type: "boolean" },
      X: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [group, verb, ...rest] = positionals;
  if (values.help || !group) return void console.log(USAGE);
  const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

  if (group === "testsaslauthd") {
    const result = await testSaslAuth({
      baseUrl: process.env.POSTERN_URL ?? "http://127.0.0.1:8787",
      user: values.user ?? fail("-u <user> is required"),
      password: (await readPassword(values.password)) ?? fail("-p <password> is required"),
      mechanism: values.mechanism ?? "PLAIN",
      service: values.service ?? "smtp",
      hostname: values.hostname,
    });
    console.log(result.line);
    process.exitCode = result.ok ? 0 : 1;
    return;
  }
  if (group === "gen-auth") {
    const [mechanism, user, secret, authzid] = positionals.slice(1);
    if (!["plain", "login", "xoauth2"].includes(mechanism ?? "") || !user || !secret) {
      fail("usage: gen-auth plain|login|xoauth2 <user> <password-or-token> [<authzid>]");
    }
    for (const line of genAuth(mechanism as GenAuthMechanism, user, secret, authzid)) console.log(line);
    return;
  }
  if (group === "account") {
    const login = rest[0] ?? "";
    switch (verb) {
      case "list":
        return print(await api("GET", "/accounts"));
      case "add": {
        const password = await readPassword(values.password);
        const iterations = values.iterations ? Number(values.iterations) : undefined;
        return print(
          await api("POST", "/accounts", {
            login,
            password,
            iterations,
            note: values.note,
            shared_secret: values["shared-secret"],
          }),
        );
      }
      case "passwd": {
        const password = (await readPassword(values.password)) ?? fail("--password is required");
        return print(
          await api("PATCH", `/accounts/${enc(login)}`, { password, shared_secret: values["shared-secret"] }),
        );
      }
      case "disable":
      case "enable":
        return print(await api("PATCH", `/accounts/${enc(login)}`, { disabled: verb === "disable" }));
      case "del":
        await api("DELETE", `/accounts/${enc(login)}`);
        return console.log(`deleted ${login}`);
    }
  }
  if (group === "map") {
    const [table = "", key = "", value] = rest;
    switch (verb) {
      case "list":
        return print(await api("GET", `/maps/${enc(table)}`));
      case "set":
        return print(await api("PUT", `/maps/${enc(table)}/${enc(key)}`, { value, secret: values.secret }));
      case "del":
        await api("DELETE", `/maps/${enc(table)}/${enc(key)}`);
        return console.log(`deleted ${table}:${key}`);
    }
  }
  if (group === "relay") {
    const [what, name = ""] = rest;
    if (verb === "oauth2") {
      switch (what ?? "list") {
        case "list":
          return print(await api("GET", "/relay/oauth2"));
        case "set":
          return print(
            await api("PUT", `/relay/oauth2/${enc(name)}`, {
              token_endpoint: values["token-endpoint"] ?? fail("--token-endpoint is required"),
              client_id: values["client-id"] ?? fail("--client-id is required"),
              client_secret: values["client-secret"],
              refresh_token:
                (await readPassword(values["refresh-token"])) ?? fail("--refresh-token is required"),
              scope: values.scope,
            }),
          );
        case "del":
          await api("DELETE", `/relay/oauth2/${enc(name)}`);
          return console.log(`deleted ${name}`);
      }
    }
    if (verb === "auth-cache") {
      if (what === "clear") {
        const query = values.user ? `?username=${enc(values.user)}` : "";
        return print(await api("DELETE", `/relay/auth-cache${query}`));
      }
      return print(await api("GET", "/relay/auth-cache"));
    }
    if (verb === "reseal") return print(await api("POST", "/relay/reseal"));
  }
  if (group === "postconf") {
    const names = positionals.slice(1);
    if (values.e) {
      for (const pair of names) {
        const at = pair.indexOf("=");
        if (at < 1) fail(`expected name=value, got ${pair}`);
        await api("PUT", `/settings/${enc(pair.slice(0, at).trim())}`, { value: pair.slice(at + 1).trim() });
      }
      return;
    }
    if (values.X) {
      for (const name of names) await api("DELETE", `/settings/${enc(name)}`);
      return;
    }
    const all = (await api("GET", "/settings")) as { parameters: Record<string, { value: string }> };
    for (const [name, p] of Object.entries(all.parameters)) {
      if (names.length === 0 || names.includes(name)) console.log(`${name} = ${p.value}`);
    }
    return;
  }
  if (group === "queue") {
    const id = rest[0] ?? "";
    switch (verb ?? "queued") {
      case "show":
        return print(await api("GET", `/queue/${enc(id)}`));
      case "release":
        return print(await api("POST", `/queue/${enc(id)}/release`));
      case "delete":
        await api("DELETE", `/queue/${enc(id)}`);
        return console.log(`deleted ${id}`);
      case "flush":
        return print(await api("POST", "/queue/flush"));
      default:
        return print(await api("GET", `/queue?state=${enc(verb ?? "queued")}`));
    }
  }
  if (group === "template") {
    const [login = "", name = ""] = rest;
    const base = `/accounts/${enc(login)}/templates`;
    switch (verb) {
      case "list":
        return print(await api("GET", base));
      case "show":
        return print(await api("GET", `${base}/${enc(name)}`));
      case "set":
        return print(
          await api("PUT", `${base}/${enc(name)}`, {
            subject: values.subject ?? fail("--subject is required"),
            text: values["text-file"] ? readFileSync(values["text-file"], "utf8") : null,
            html: values["html-file"] ? readFileSync(values["html-file"], "utf8") : null,
          }),
        );
      case "del":
        await api("DELETE", `${base}/${enc(name)}`);
        return console.log(`deleted template ${name}`);
    }
  }
  if (group === "receiver") {
    const id = rest[0] ?? "";
    switch (verb) {
      case "list":
        return print(await api("GET", "/webhooks/receivers"));
      case "show":
        return print(await api("GET", `/webhooks/receivers/${enc(id)}`));
      case "add":
        return print(
          await api("POST", "/webhooks/receivers", {
            account: id,
            kind: rest[1],
            secret: values["signing-secret"],
            config: JSON.parse(values.config ?? "{}"),
          }),
        );
      case "secret":
        return print(await api("PATCH", `/webhooks/receivers/${enc(id)}`, { secret: rest.slice(1) }));
      case "disable":
      case "enable":
        return print(await api("PATCH", `/webhooks/receivers/${enc(id)}`, { disabled: verb === "disable" }));
      case "del":
        await api("DELETE", `/webhooks/receivers/${enc(id)}`);
        return console.log(`deleted receiver ${id}`);
    }
  }
  if (group === "endpoint") {
    const id = rest[0] ?? "";
    switch (verb) {
      case "list":
        return print(await api("GET", `/webhooks/endpoints${id ? `?account=${enc(id)}` : ""}`));
      case "show":
        return print(await api("GET", `/webhooks/endpoints/${enc(id)}`));
      case "events":
        return print(await api("GET", `/webhooks/endpoints/${enc(id)}/events`));
      case "add":
        return print(
          await api("POST", "/webhooks/endpoints", {
            account: id,
            url: rest[1],
            events: values.events ? values.events.split(",").map((e) => e.trim()) : undefined,
          }),
        );
      case "disable":
      case "enable":
        return print(await api("PATCH", `/webhooks/endpoints/${enc(id)}`, { disabled: verb === "disable" }));
      case "rotate":
        return print(await api("PATCH", `/webhooks/endpoints/${enc(id)}`, { rotate_secret: true }));
      case "del":
        await api("DELETE", `/webhooks/endpoints/${enc(id)}`);
        return console.log(`deleted endpoint ${id}`);
    }
  }
  fail(`unknown command: ${positionals.join(" ")}\n\n${USAGE}`);
}

await main(process.argv.slice(2));
