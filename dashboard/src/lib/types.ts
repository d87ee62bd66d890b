// Wire shapes of the public REST contract (the proto3 JSON mapping: lowerCamelCase
// fields, enums as short upper-case names, RFC 3339 timestamps, money as integer minor
// units). Only what the dashboard reads or sends.

export type OrderStatus =
  | 'CREATED'
  | 'PROCESSING'
  | 'REQUIRES_ACTION'
  | 'AUTHORIZED'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'PARTIALLY_REFUNDED'
  | 'REFUNDED'
  | 'CANCELLED';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'CREATED',
  'PROCESSING',
  'REQUIRES_ACTION',
  'AUTHORIZED',
  'SUCCEEDED',
  'FAILED',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'CANCELLED',
];

export interface Order {
  id: string;
  merchantId: string;
  amount: number;
  currency: string;
  status: OrderStatus;
  captureMethod: 'AUTOMATIC' | 'MANUAL';
  amountCaptured?: number;
  amountRefunded?: number;
  customerEmail?: string;
  description?: string;
  metadata?: Record<string, string>;
  processor?: string;
  failureCode?: string;
  failureMessage?: string;
  nextAction?: { type: string; redirectUrl: string };
  createdAt: string;
  updatedAt: string;
}

export interface OrderList {
  orders?: Order[];
  nextPageToken?: string;
}

export interface RoutingDecision {
  ruleId?: string;
  reason?: string;
  candidateIndex?: number;
  approach?: string;
  score?: number;
  samples?: number;
}

export interface Transaction {
  id: string;
  orderId: string;
  type: 'CHARGE' | 'AUTHORIZE' | 'CAPTURE' | 'VOID' | 'REFUND';
  status: 'PENDING' | 'ACTION_REQUIRED' | 'SUCCEEDED' | 'FAILED';
  processor: string;
  processorReference?: string;
  amount: number;
  currency: string;
  failureCode?: string;
  failureMessage?: string;
  routingDecision?: RoutingDecision;
  refundId?: string;
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
  reason?: string;
  createdAt: string;
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

export interface Merchant {
  id: string;
  name: string;
  email: string;
  webhookUrl?: string;
  createdAt: string;
  updatedAt: string;
}

export interface AuthResponse {
  token: string;
  expiresAt: string;
  merchant?: Merchant;
}

export type Mode = 'test' | 'live';

export interface ApiKey {
  id: string;
  prefix: string;
  mode: Mode;
  name?: string;
  createdAt: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export interface ApiKeyCreated {
  apiKey: ApiKey;
  secret: string;
}

export interface ProcessorConfig {
  processor: string;
  enabled?: boolean;
  maskedCredentials?: Record<string, string>;
  updatedAt?: string;
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
  successRate?: {
    processors: string[];
    explorationPercent?: number;
    minSamples?: number;
    windowSize?: number;
  };
}

export interface RoutingRule {
  id: string;
  priority?: number;
  conditions?: RoutingConditions;
  action?: RoutingAction;
  createdAt: string;
}

export interface WebhookEndpoint {
  id: string;
  url: string;
  events?: string[];
  secret?: string;
  createdAt: string;
}

export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface DeliveryAttempt {
  statusCode?: number;
  latencyMs?: number;
  error?: string;
  attemptedAt: string;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  endpointId: string;
  url: string;
  status: DeliveryStatus;
  attempts?: DeliveryAttempt[];
  nextAttemptAt?: string;
  createdAt: string;
}

export interface WebhookEvent {
  id: string;
  type: string;
  createdAt: string;
  sequence?: number;
  deliveries?: WebhookDelivery[];
}

export interface WebhookEventList {
  events?: WebhookEvent[];
  nextPageToken?: string;
}

// GET /api/analytics/summary. int64 sums arrive as decimal strings.

export interface Volume {
  currency: string;
  amount: string;
}

export interface AnalyticsSummary {
  totals?: {
    count?: number;
    volume?: Volume[];
    succeeded?: number;
    capturedVolume?: Volume[];
    refunds?: { count?: number; volume?: Volume[] };
  };
  byStatus?: { status: OrderStatus; count?: number; volume?: Volume[] }[];
  byProcessor?: {
    processor: string;
    attempted?: number;
    succeeded?: number;
    successRate?: number;
    volume?: Volume[];
  }[];
  byCurrency?: {
    currency: string;
    count?: number;
    volume?: string;
    succeeded?: number;
    capturedVolume?: string;
    refundCount?: number;
    refundedVolume?: string;
  }[];
  failureCodes?: { code: string; count?: number }[];
  daily?: {
    date: string;
    count?: number;
    volume?: Volume[];
    succeeded?: number;
    capturedVolume?: Volume[];
  }[];
}
