export { isAuthorizedDestination } from "./authorized-destination.ts";
export type { CheckContext, CheckStatus, RecipientFacts, ReplyClass, ReplyTarget } from "./check-context.ts";
export { evaluateRecipient, type RecipientDecision, type RecipientInput } from "./evaluate-recipient.ts";
export { findSenderOwners, senderKeys } from "./find-sender-owners.ts";
export { matchNetwork, type NetworkList, type NetworkPattern, parseNetworkList } from "./network-list.ts";
export { parseRestrictions, type Restriction } from "./parse-restrictions.ts";
export {
  isRestrictionName,
  RESTRICTIONS,
  type RestrictionName,
  type RestrictionSpec,
} from "./restrictions.ts";
export { makeReply, renderReply, SERVER_CONFIGURATION_ERROR, type SmtpReply } from "./smtp-reply.ts";
