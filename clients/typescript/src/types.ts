// Wire types: the proto3 JSON mapping of the PayLoops protos (lowerCamelCase fields,
// enums as their short upper-case names, RFC 3339 timestamps, int32 money in minor units;
// int64 sums, as in the analytics summary, are decimal strings so no digit is lost).

export type OrderStatus =
  | 'CREATED' | 'PROCESSING' | 'REQUIRES_ACTION' | 'AUTHORIZED' | 'SUCCEEDED'
  | 'FAILED' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'CANCELLED';
export type CaptureMethod = 'AUTOMATIC' | 'MANUAL';

export interface NextAction {
  type: string;
  redirectUrl: string;
}

export interface PaymentMethod {
  /** `card`, `upi`, `wallet`, … */
  type: string;
  /** A processor token such as `pm_card_visa`. */
  token: string;
}

export interface Order {
  id: string;
  merchantId: string;
  amount: number;
  currency: string;
  status: OrderStatus;
  captureMethod: CaptureMethod;
  amountCaptured: number;
  amountRefunded: number;
  customerEmail: string;
  description: string;
  metadata: Record<string, string>;
  processor: string;
  failureCode: string;
  failureMessage: string;
  nextAction?: NextAction;
  createdAt: string;
  updatedAt: string;
}

export interface Refund {
  id: string;
  orderId: string;
  amount: number;
  currency: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  processor: string;
  reason: string;
  createdAt: string;
}

export interface RoutingDecision {
  ruleId: string;
  reason: string;
  candidateIndex: number;
  approach: string;
  score?: number;
  samples: number;
}

export interface Transaction {
  id: string;
  orderId: string;
  type: 'CHARGE' | 'AUTHORIZE' | 'CAPTURE' | 'VOID' | 'REFUND';
  status: 'PENDING' | 'ACTION_REQUIRED' | 'SUCCEEDED' | 'FAILED';
  processor: string;
  processorReference: string;
  amount: number;
  currency: string;
  failureCode: string;
  failureMessage: string;
  routingDecision?: RoutingDecision;
  refundId: string;
  createdAt: string;
  updatedAt: string;
}

/** `OPEN`, then `COMPLETE` (the order was paid) or `EXPIRED` (it expired, was expired, or the order was cancelled). */
export type CheckoutSessionStatus = 'OPEN' | 'COMPLETE' | 'EXPIRED';

/** A hosted payment page for an order: send the customer to `url`. */
export interface CheckoutSession {
  /** `cs_…` */
  id: string;
  orderId: string;
  /** The hosted payment page. */
  url: string;
  status: CheckoutSessionStatus;
  /** Where the customer goes after paying. */
  successUrl: string;
  /** Where the customer goes after giving up. */
  cancelUrl: string;
  /** When the session stops accepting payments. */
  expiresAt: string;
  createdAt: string;
}

export interface OrderCreateParams {
  amount: number;
  currency: string;
  customerEmail?: string;
  description?: string;
  metadata?: Record<string, string>;
  captureMethod?: CaptureMethod;
}

export interface OrderListParams {
  pageSize?: number;
  pageToken?: string;
  status?: OrderStatus;
}

export interface OrderPayParams {
  paymentMethod: PaymentMethod;
  returnUrl?: string;
}

export interface OrderCaptureParams {
  amount?: number;
}

export interface OrderRefundParams {
  amount?: number;
  reason?: string;
}

export interface CheckoutSessionCreateParams {
  /** A `CREATED` or `FAILED` order of a test-mode key; one `OPEN` session per order. */
  orderId: string;
  /** Absolute http(s) URL. */
  successUrl: string;
  /** Absolute http(s) URL. */
  cancelUrl: string;
  /** 1800–86400, default 86400. */
  expiresInSeconds?: number;
}

export interface OrderList {
  orders: Order[];
  nextPageToken: string;
}

// Dashboard

export interface RetryRule {
  processor: string;
  failureCode: string;
  decision: 'RETRY_NEXT_PROCESSOR' | 'DO_NOT_RETRY' | 'REQUIRES_ACTION';
}

export interface RetrySettings {
  maxAttempts?: number;
  rules: RetryRule[];
}

export interface Merchant {
  id: string;
  name: string;
  email: string;
  webhookUrl: string;
  retrySettings?: RetrySettings;
  createdAt: string;
  updatedAt: string;
}

export interface MerchantUpdateParams {
  name?: string;
  webhookUrl?: string;
  retrySettings?: Partial<RetrySettings>;
}

export interface RegisterParams {
  email: string;
  /** At least 12 characters. */
  password: string;
  name: string;
}

export interface RegisterResponse {
  merchant: Merchant;
  token: string;
  expiresAt: string;
}

export interface LoginParams {
  email: string;
  password: string;
}

export interface LoginResponse {
  token: string;
  expiresAt: string;
}

export interface ApiKey {
  id: string;
  /** e.g. `sk_test_Ab12`; never the secret. */
  prefix: string;
  mode: 'test' | 'live';
  name: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface ApiKeyCreateParams {
  mode: 'test' | 'live';
  name?: string;
}

export interface ApiKeyCreateResponse {
  apiKey: ApiKey;
  /** The key itself: shown only here. */
  secret: string;
}

export interface ProcessorConfig {
  processor: string;
  enabled: boolean;
  maskedCredentials: Record<string, string>;
  updatedAt?: string;
}

export interface ProcessorUpsertParams {
  processor: 'stripe' | 'razorpay';
  /** Stripe: `secretKey`, `webhookSecret`; Razorpay: `keyId`, `keySecret`, `webhookSecret`. */
  credentials: Record<string, string>;
  enabled?: boolean;
}

export interface RoutingConditions {
  currency?: string;
  amountGte?: number;
  amountLt?: number;
  paymentMethodType?: string;
  metadata?: Record<string, string>;
}

export interface RoutingAction {
  single?: { processor: string };
  priority?: { processors: string[] };
  volumeSplit?: { splits: { processor: string; weight: number }[] };
  successRate?: { processors: string[]; explorationPercent?: number; minSamples?: number; windowSize?: number };
}

export interface RoutingRule {
  id: string;
  priority: number;
  conditions?: RoutingConditions;
  action?: RoutingAction;
  createdAt: string;
}

export interface RoutingRuleCreateParams {
  priority?: number;
  conditions?: RoutingConditions;
  action: RoutingAction;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  /** The signing secret (`whsec_…`), shown on create. */
  secret: string;
  createdAt: string;
}

export interface WebhookEndpointCreateParams {
  url: string;
  /** The event types to receive; every type when absent or empty. */
  events?: WebhookEventType[];
}

export interface DeliveryAttempt {
  statusCode: number;
  latencyMs: number;
  error: string;
  attemptedAt: string;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  url: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  attempts: DeliveryAttempt[];
  nextAttemptAt?: string;
  createdAt: string;
}

export interface WebhookEventRecord {
  id: string;
  type: WebhookEventType;
  data: { object: Record<string, unknown> };
  createdAt: string;
  sequence: number;
  deliveries: WebhookDelivery[];
}

export interface WebhookEventListParams {
  pageSize?: number;
  pageToken?: string;
  type?: WebhookEventType;
  deliveryStatus?: 'PENDING' | 'SUCCEEDED' | 'FAILED';
}

export interface WebhookEventList {
  events: WebhookEventRecord[];
  nextPageToken: string;
}

export interface AnalyticsSummaryParams {
  /** Start of the range, inclusive: RFC 3339 or a `Date` (default: 30 days before `to`). */
  from?: string | Date;
  /** End of the range, exclusive, at most 366 days after `from` (default: now). */
  to?: string | Date;
  /** Whose orders (default `test`). */
  mode?: 'test' | 'live';
}

/**
 * A sum of money in one currency, in its minor unit. `amount` is a decimal string (an int64
 * on the wire: a sum of many orders may exceed 2^53); read it with `BigInt(amount)`, or
 * `Number(amount)` when it is known to be small.
 */
export interface Volume {
  currency: string;
  amount: string;
}

/** The non-failed (`PENDING` or `SUCCEEDED`) refunds of the orders. */
export interface RefundTotals {
  count: number;
  volume: Volume[];
}

/** Every order of the range. */
export interface AnalyticsTotals {
  /** Orders created. */
  count: number;
  /** Their amounts, per currency. */
  volume: Volume[];
  /** Orders paid: status `SUCCEEDED`, `PARTIALLY_REFUNDED` or `REFUNDED`. */
  succeeded: number;
  /** Money captured, per currency. */
  capturedVolume: Volume[];
  refunds: RefundTotals;
}

/** The orders now in one status. */
export interface StatusTotals {
  status: OrderStatus;
  count: number;
  volume: Volume[];
}

/** The payment attempts (charges, authorizations) that reached an outcome at one processor. */
export interface ProcessorTotals {
  processor: string;
  attempted: number;
  succeeded: number;
  /** `succeeded / attempted`, from 0 to 1. */
  successRate: number;
  /** The amounts of the succeeded attempts, per currency. */
  volume: Volume[];
}

/** The orders in one currency; sums are decimal strings in its minor unit (see `Volume`). */
export interface CurrencyTotals {
  currency: string;
  count: number;
  volume: string;
  succeeded: number;
  capturedVolume: string;
  refundCount: number;
  refundedVolume: string;
}

/** How many payment attempts failed with one code (`unknown` when the processor gave none). */
export interface FailureCodeCount {
  code: string;
  count: number;
}

/** The orders created on one UTC day. */
export interface DailyTotals {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  count: number;
  volume: Volume[];
  succeeded: number;
  capturedVolume: Volume[];
}

/**
 * Figures about the merchant's orders created in `[from, to)`, in one mode, and what happened
 * to them since (their payment attempts and refunds). Money is never added across currencies.
 */
export interface AnalyticsSummary {
  totals: AnalyticsTotals;
  /** One entry per order status present. */
  byStatus: StatusTotals[];
  /** One entry per processor with attempts, by name. */
  byProcessor: ProcessorTotals[];
  /** One entry per currency present, by code. */
  byCurrency: CurrencyTotals[];
  /** The ten most frequent failure codes, most frequent first. */
  failureCodes: FailureCodeCount[];
  /** One entry per UTC day the range touches, oldest first (days without orders count 0). */
  daily: DailyTotals[];
}

export interface RoutingSimulateParams {
  amount: number;
  currency: string;
  paymentMethod: { type: string; token?: string };
  metadata?: Record<string, string>;
  mode?: 'test' | 'live';
}

export interface RoutingCandidate {
  processor: string;
  reason: string;
  ruleId: string;
  score?: number;
  samples: number;
  approach: string;
}

export interface RoutingSimulation {
  candidates: RoutingCandidate[];
  approach: string;
}

export interface RoutingStat {
  processor: string;
  paymentMethodType: string;
  currency: string;
  successRate: number;
  sampleCount: number;
  eliminated: boolean;
  eliminatedUntil?: string;
}

/** Each webhook event type and the object its `data.object` is. */
export interface WebhookEventObjects {
  'order.succeeded': Order;
  'order.failed': Order;
  'order.requires_action': Order;
  'order.authorized': Order;
  'order.cancelled': Order;
  'refund.succeeded': Refund;
  'refund.failed': Refund;
  'checkout.session.completed': CheckoutSession;
  'checkout.session.expired': CheckoutSession;
}

export type WebhookEventType = keyof WebhookEventObjects;

/**
 * An outbound webhook delivery's body, as `webhooks.verify` returns it. Narrow it with
 * `webhooks.isEventType(event, 'checkout.session.completed')` to type `data.object`.
 */
export interface WebhookEvent<T = Record<string, unknown>> {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: { object: T };
}
