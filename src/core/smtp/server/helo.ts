// HELO and EHLO (RFC 5321 §4.1.1.1): both reset the transaction (§4.1.4); EHLO lists the service
// extensions in Postfix's order. STARTTLS is announced while it can still be used, AUTH as
// announcedMechanisms() decides (smtpd_tls_auth_only, smtpd_sasl_exceptions_networks ...).
import { announcedMechanisms } from "./auth.ts";
import { REPLIES } from "./replies.ts";
import type { SessionCore } from "./session-core.ts";

/** The longest HELO name kept for logs and the Received: header. */
const HELO_NAME_LIMIT = 255;

export function heloCommand(core: SessionCore, args: string): void {
  if (!greet(core, args, false)) return;
  core.reply(REPLIES.helo(core.config.hostname));
}

export async function ehloCommand(core: SessionCore, args: string): Promise<void> {
  if (!greet(core, args, true)) return;
  core.reply({ code: 250, enhanced: "", lines: [core.config.hostname, ...(await ehloKeywords(core))] });
}

function greet(core: SessionCore, args: string, esmtp: boolean): boolean {
  // Postfix joins the words of a multi-word name ("EHLO my host") rather than refusing it.
  const name = args.trim().replace(/\s+/g, " ");
  if (name === "") {
    core.reply(REPLIES.syntax(esmtp ? "EHLO hostname" : "HELO hostname"));
    return false;
  }
  core.resetTransaction();
  core.helo = { name: core.printable(name, HELO_NAME_LIMIT), esmtp };
  return true;
}

export async function ehloKeywords(core: SessionCore): Promise<string[]> {
  const { config } = core;
  const keywords = ["PIPELINING", config.messageSizeLimit > 0 ? `SIZE ${config.messageSizeLimit}` : "SIZE"];
  if (core.tls === null && core.tlsAvailable && config.tlsSecurityLevel !== "none") keywords.push("STARTTLS");
  const mechanisms = (await announcedMechanisms(core)).map((spec) => spec.name).join(" ");
  if (mechanisms) {
    keywords.push(`AUTH ${mechanisms}`);
    // Outlook Express 4 and Exchange 5.0 look for the pre-RFC 2554 form.
    if (config.brokenSaslAuthClients) keywords.push(`AUTH=${mechanisms}`);
  }
  keywords.push("ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING");
  return keywords;
}
