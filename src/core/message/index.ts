export type { Address, AddressInput } from "./address-input.ts";
export { type ComposedMessage, type ComposeOptions, composeMessage } from "./compose.ts";
export { prepareRawMessage, type RawMessageResult } from "./raw.ts";
export {
  type EnhancedStatus,
  parseSubmission,
  type Submission,
  type SubmissionAttachment,
  type SubmissionError,
  type SubmissionHeader,
  submissionSchema,
} from "./submission-schema.ts";
