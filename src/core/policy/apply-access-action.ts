// What an access(5) result does, as Postfix's check_table_result(): replies name the looked-up
// thing and its class ("<login>: SASL login name rejected: ..."), HOLD and DISCARD mark the message,
// and a restriction list is applied in place.
import type { AccessAction } from "../maps/access-action.ts";
import type { CheckContext, CheckStatus, ReplyClass } from "./check-context.ts";
import { makeReply, SERVER_CONFIGURATION_ERROR } from "./smtp-reply.ts";

export async function applyAccessAction(
  ctx: CheckContext,
  action: AccessAction,
  table: string,
): Promise<CheckStatus> {
  const { name, class: klass } = ctx.target;
  const rejected = (code: number, enhanced: string, text: string | undefined, fallback: string) =>
    makeReply(code, fixDsn(enhanced, klass), `<${name}>: ${klass} rejected: ${text ?? fallback}`);

  switch (action.kind) {
    case "ok":
      return "ok";
    case "dunno":
      return "dunno";
    case "reject":
      return ctx.reject(rejected(554, action.enhanced, action.text, "Access denied"));
    case "defer":
      return ctx.reject(rejected(450, action.enhanced, action.text, "Access denied"));
    case "code":
      return ctx.reject(rejected(action.code, action.enhanced, action.text, "Access denied"));
    case "defer_if_permit":
      return ctx.deferIfPermit(rejected(450, action.enhanced, action.text, "Service unavailable"));
    case "defer_if_reject":
      return ctx.deferIfReject(rejected(450, action.enhanced, action.text, "Service unavailable"));
    case "hold":
      ctx.hold(`<${name}>: ${klass} ${action.text ?? "triggers HOLD action"}`);
      return "dunno";
    case "discard":
      ctx.discard(`<${name}>: ${klass} ${action.text ?? "triggers DISCARD action"}`);
      return "ok";
    case "warn":
    case "info":
      ctx.log(action.kind, action.text ?? "");
      return "dunno";
    case "restrictions":
      return ctx.applyNested(action.names, table);
    case "unknown":
      return ctx.abort(
        SERVER_CONFIGURATION_ERROR,
        `access table ${table} entry for <${name}> has unknown result "${action.value}"`,
      );
  }
}

// smtpd_dsn_fix(): an address status (X.1.Y) in a reply about something that is not an address
// (a SASL login) becomes the neutral X.0.0, so one table can serve several checks.
function fixDsn(enhanced: string, klass: ReplyClass): string {
  if (klass === "SASL login name" && /^\d\.1\./.test(enhanced)) return `${enhanced[0]}.0.0`;
  return enhanced;
}
