import { type ClientOptions, type Query, type RequestOptions, Requester } from './core.js';
import { autoPaginate } from './pagination.js';
import type {
  AnalyticsSummary, AnalyticsSummaryParams, ApiKey, ApiKeyCreateParams, ApiKeyCreateResponse, LoginParams,
  LoginResponse, Merchant, MerchantUpdateParams, Order, OrderList, OrderListParams, ProcessorConfig,
  ProcessorUpsertParams, RegisterParams, RegisterResponse, RoutingRule, RoutingRuleCreateParams,
  RoutingSimulateParams, RoutingSimulation, RoutingStat, WebhookDelivery, WebhookEndpoint,
  WebhookEndpointCreateParams, WebhookEventList, WebhookEventListParams, WebhookEventRecord,
} from './types.js';

const id = encodeURIComponent;

/** Shared by the dashboard resources: one requester and helpers for the list envelopes. */
abstract class Resource {
  constructor(protected readonly requester: Requester) {}

  protected get<T>(path: string, query?: Query, options?: RequestOptions): Promise<T> {
    return this.requester.request({ method: 'GET', path, query, options });
  }

  protected async items<T>(path: string, key: string, options?: RequestOptions): Promise<T[]> {
    const answer = await this.get<Record<string, T[] | undefined>>(path, undefined, options);
    return answer[key] ?? [];
  }

  protected send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, options?: RequestOptions): Promise<T> {
    return this.requester.request({ method, path, body, options });
  }
}

export class MerchantResource extends Resource {
  retrieve(options?: RequestOptions): Promise<Merchant> {
    return this.get('/api/merchants/me', undefined, options);
  }

  update(params: MerchantUpdateParams, options?: RequestOptions): Promise<Merchant> {
    return this.send('PUT', '/api/merchants/me', params, options);
  }
}

export class ApiKeys extends Resource {
  list(options?: RequestOptions): Promise<ApiKey[]> {
    return this.items('/api/api-keys', 'apiKeys', options);
  }

  /** The answer's `secret` is the only time the key is shown. */
  create(params: ApiKeyCreateParams, options?: RequestOptions): Promise<ApiKeyCreateResponse> {
    return this.send('POST', '/api/api-keys', params, options);
  }

  revoke(keyId: string, options?: RequestOptions): Promise<ApiKey> {
    return this.send('DELETE', `/api/api-keys/${id(keyId)}`, undefined, options);
  }
}

export class Processors extends Resource {
  list(options?: RequestOptions): Promise<ProcessorConfig[]> {
    return this.items('/api/processors', 'processors', options);
  }

  /** Creates or replaces a processor's configuration; the answer masks the credentials. */
  upsert(params: ProcessorUpsertParams, options?: RequestOptions): Promise<ProcessorConfig> {
    return this.send('POST', '/api/processors', params, options);
  }
}

export class RoutingRules extends Resource {
  list(options?: RequestOptions): Promise<RoutingRule[]> {
    return this.items('/api/routing-rules', 'routingRules', options);
  }

  create(params: RoutingRuleCreateParams, options?: RequestOptions): Promise<RoutingRule> {
    return this.send('POST', '/api/routing-rules', params, options);
  }

  delete(ruleId: string, options?: RequestOptions): Promise<RoutingRule> {
    return this.send('DELETE', `/api/routing-rules/${id(ruleId)}`, undefined, options);
  }
}

export class WebhookEndpoints extends Resource {
  list(options?: RequestOptions): Promise<WebhookEndpoint[]> {
    return this.items('/api/webhook-endpoints', 'webhookEndpoints', options);
  }

  /** The answer carries the endpoint's signing `secret`. */
  create(params: WebhookEndpointCreateParams, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.send('POST', '/api/webhook-endpoints', params, options);
  }

  delete(endpointId: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.send('DELETE', `/api/webhook-endpoints/${id(endpointId)}`, undefined, options);
  }
}

export class WebhookEvents extends Resource {
  listPage(params: WebhookEventListParams = {}, options?: RequestOptions): Promise<WebhookEventList> {
    return this.get('/api/webhook-events', { ...params }, options);
  }

  /** Every event with its deliveries, page after page: `for await (const event of webhookEvents.list())`. */
  list(params: WebhookEventListParams = {}, options?: RequestOptions): AsyncGenerator<WebhookEventRecord, void, undefined> {
    return autoPaginate(params, (page) => this.listPage(page, options), (page) => page.events);
  }

  /** Delivers the event again (to one endpoint, or to every subscribed one). */
  async replay(eventId: string, params: { endpointId?: string } = {}, options?: RequestOptions): Promise<WebhookDelivery[]> {
    const path = `/api/webhook-events/${id(eventId)}/replay`;
    const answer = await this.send<{ deliveries?: WebhookDelivery[] }>('POST', path, params, options);
    return answer.deliveries ?? [];
  }
}

export class DashboardOrders extends Resource {
  listPage(params: OrderListParams = {}, options?: RequestOptions): Promise<OrderList> {
    return this.get('/api/orders', { ...params }, options);
  }

  list(params: OrderListParams = {}, options?: RequestOptions): AsyncGenerator<Order, void, undefined> {
    return autoPaginate(params, (page) => this.listPage(page, options), (page) => page.orders);
  }
}

const rfc3339 = (value: string | Date | undefined): string | undefined =>
  value instanceof Date ? value.toISOString() : value;

export class Analytics extends Resource {
  /**
   * Figures about the orders created in `[from, to)` (default: the last 30 days) and what happened
   * to them: counts, volumes per currency, success rate per processor, top failure codes, refunds
   * and a per-day series.
   */
  summary(params: AnalyticsSummaryParams = {}, options?: RequestOptions): Promise<AnalyticsSummary> {
    const query = { from: rfc3339(params.from), to: rfc3339(params.to), mode: params.mode };
    return this.get('/api/analytics/summary', query, options);
  }
}

export class Routing extends Resource {
  /** What routing would decide now for such a payment; moves no money. */
  simulate(params: RoutingSimulateParams, options?: RequestOptions): Promise<RoutingSimulation> {
    return this.send('POST', '/api/routing/simulate', params, options);
  }

  stats(params: { mode?: 'test' | 'live' } = {}, options?: RequestOptions): Promise<RoutingStat[]> {
    return this.get<{ stats?: RoutingStat[] }>('/api/routing/stats', params, options).then((answer) => answer.stats ?? []);
  }
}

/** The dashboard API (`/api/*`), authenticated with a dashboard token (`Authorization: Bearer …`). */
export class Dashboard {
  readonly baseUrl: string;
  readonly merchant: MerchantResource;
  readonly apiKeys: ApiKeys;
  readonly processors: Processors;
  readonly routingRules: RoutingRules;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly webhookEvents: WebhookEvents;
  readonly orders: DashboardOrders;
  readonly analytics: Analytics;
  readonly routing: Routing;

  constructor(token: string, options: ClientOptions = {}) {
    if (!token) throw new TypeError('Dashboard: a token is required');
    const requester = new Requester({ authorization: `Bearer ${token}` }, options);
    this.baseUrl = requester.baseUrl;
    this.merchant = new MerchantResource(requester);
    this.apiKeys = new ApiKeys(requester);
    this.processors = new Processors(requester);
    this.routingRules = new RoutingRules(requester);
    this.webhookEndpoints = new WebhookEndpoints(requester);
    this.webhookEvents = new WebhookEvents(requester);
    this.orders = new DashboardOrders(requester);
    this.analytics = new Analytics(requester);
    this.routing = new Routing(requester);
  }

  /** Creates a merchant account; `new Dashboard(answer.token)` then acts as it. */
  static register(params: RegisterParams, options: ClientOptions & RequestOptions = {}): Promise<RegisterResponse> {
    return new Requester({}, options).request({ method: 'POST', path: '/api/auth/register', body: params, options });
  }

  /** Logs in; `new Dashboard(answer.token)` then acts as the merchant. */
  static login(params: LoginParams, options: ClientOptions & RequestOptions = {}): Promise<LoginResponse> {
    return new Requester({}, options).request({ method: 'POST', path: '/api/auth/login', body: params, options });
  }
}
