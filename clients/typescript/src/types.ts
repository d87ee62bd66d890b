// Wire types: the proto3 JSON mapping of the PayLoops protos (lowerCamelCase fields,
// enums as their short upper-case names, RFC 3339 timestamps, int32 money in minor units).

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

export interface CheckoutSession {
  id: string;
  orderId: string;
  url: string;
  status: 'OPEN' | 'COMPLETE' | 'EXPIRED';
  successUrl: string;
  cancelUrl: string;
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
  orderId: string;
  successUrl: string;
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
  events?: string[];
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
  type: string;
  data: Record<string, unknown>;
  createdAt: string;
  sequence: number;
  deliveries: WebhookDelivery[];
}

export interface WebhookEventListParams {
  pageSize?: number;
  pageToken?: string;
  type?: string;
  deliveryStatus?: 'PENDING' | 'SUCCEEDED' | 'FAILED';
}

export interface WebhookEventList {
  events: WebhookEventRecord[];
  nextPageToken: string;
}

export interface AnalyticsSummaryParams {
  from?: string;
  to?: string;
  mode?: 'test' | 'live';
}

export type AnalyticsSummary = Record<string, unknown>;

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

/** An outbound webhook delivery's body, as `webhooks.verify` returns it. */
export interface WebhookEvent<T = Record<string, unknown>> {
  id: string;
  type: string;
  createdAt: string;
  data: { object: T };
}
