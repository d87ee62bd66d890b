/** A field the server rejected (from the `google.rpc.BadRequest` detail). */
export interface FieldViolation {
  field: string;
  description: string;
  reason?: string;
}

interface ErrorFields {
  status?: number;
  reason?: string;
  code?: number;
  fieldViolations?: FieldViolation[];
  metadata?: Record<string, string>;
  details?: unknown[];
  requestId?: string;
  cause?: unknown;
}

/** Base class of every error the SDK throws. Never carries an API key, token or secret. */
export class PayLoopsError extends Error {
  /** HTTP status of the answer (absent when no answer arrived). */
  readonly status: number | undefined;
  /** Stable upper-snake reason from the `google.rpc.ErrorInfo` detail, e.g. `AMOUNT_INVALID`. */
  readonly reason: string | undefined;
  /** gRPC status code of the `google.rpc.Status` body. */
  readonly code: number | undefined;
  readonly fieldViolations: FieldViolation[];
  /** The `ErrorInfo` detail's metadata, e.g. `{ sessionId }` for `CHECKOUT_SESSION_ALREADY_OPEN`. */
  readonly metadata: Record<string, string>;
  readonly details: unknown[];
  /** The gateway's `x-request-id`, to quote to support. */
  readonly requestId: string | undefined;

  constructor(message: string, fields: ErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.status = fields.status;
    this.reason = fields.reason;
    this.code = fields.code;
    this.fieldViolations = fields.fieldViolations ?? [];
    this.metadata = fields.metadata ?? {};
    this.details = fields.details ?? [];
    this.requestId = fields.requestId;
  }
}

/** 400: the request was invalid (see `reason` and `fieldViolations`). */
export class InvalidRequestError extends PayLoopsError {}
/** 401: missing, unknown or revoked API key or token. */
export class AuthenticationError extends PayLoopsError {}
/** 403 */
export class PermissionDeniedError extends PayLoopsError {}
/** 404: unknown object, or one that belongs to another merchant. */
export class NotFoundError extends PayLoopsError {}
/** 409: idempotency key conflict, concurrent change, or a checkout session already open for the order. */
export class ConflictError extends PayLoopsError {}
/** 429 */
export class RateLimitError extends PayLoopsError {}
/** 5xx or any other unexpected answer. */
export class APIError extends PayLoopsError {}
/** No answer: network failure, timeout or abort. */
export class APIConnectionError extends PayLoopsError {}
/** A webhook delivery failed verification. */
export class WebhookVerificationError extends PayLoopsError {}

const BY_STATUS: Record<number, typeof PayLoopsError> = {
  400: InvalidRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  429: RateLimitError,
};

interface Detail {
  '@type'?: string;
  reason?: string;
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolation[];
}

/** Builds the typed error for an HTTP error answer whose body is an AIP-193 `google.rpc.Status` (or not). */
export function errorFromResponse(status: number, body: unknown, requestId: string | undefined): PayLoopsError {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as {
    code?: number;
    message?: string;
    details?: Detail[];
  };
  const details = Array.isArray(parsed.details) ? parsed.details : [];
  const ofType = (suffix: string) => details.filter((d) => typeof d['@type'] === 'string' && d['@type'].endsWith(suffix));
  const errorInfo = ofType('ErrorInfo').at(0);
  const reason = errorInfo?.reason;
  const metadata = typeof errorInfo?.metadata === 'object' ? { ...errorInfo.metadata } : {};
  const fieldViolations = ofType('BadRequest').flatMap((d) => d.fieldViolations ?? []);
  const message = typeof parsed.message === 'string' && parsed.message ? parsed.message : `HTTP ${status}`;
  const ErrorClass = BY_STATUS[status] ?? APIError;
  return new ErrorClass(message, { status, reason, code: parsed.code, fieldViolations, metadata, details, requestId });
}
