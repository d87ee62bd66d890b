import { PayLoops } from './payloops.js';

export { PayLoops, Orders, Refunds, CheckoutSessions } from './payloops.js';
export { Dashboard } from './dashboard.js';
export { webhooks, type VerifyOptions, type WebhookHeaders } from './webhooks.js';
export { VERSION, type ClientOptions, type RequestOptions } from './core.js';
export {
  PayLoopsError, AuthenticationError, PermissionDeniedError, InvalidRequestError, NotFoundError, ConflictError,
  RateLimitError, APIError, APIConnectionError, WebhookVerificationError, type FieldViolation,
} from './errors.js';
export type * from './types.js';

export default PayLoops;
