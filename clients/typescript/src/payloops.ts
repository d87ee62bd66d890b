import { type ClientOptions, type RequestOptions, Requester } from './core.js';
import { autoPaginate } from './pagination.js';
import type {
  CheckoutSession, CheckoutSessionCreateParams, Order, OrderCaptureParams, OrderCreateParams, OrderList,
  OrderListParams, OrderPayParams, OrderRefundParams, Refund, Transaction,
} from './types.js';
import { webhooks } from './webhooks.js';

const id = encodeURIComponent;

export class Orders {
  constructor(private readonly requester: Requester) {}

  create(params: OrderCreateParams, options?: RequestOptions): Promise<Order> {
    return this.requester.request({ method: 'POST', path: '/v1/orders', body: params, options });
  }

  retrieve(orderId: string, options?: RequestOptions): Promise<Order> {
    return this.requester.request({ method: 'GET', path: `/v1/orders/${id(orderId)}`, options });
  }

  /** One page: `{orders, nextPageToken}` (empty token on the last page). */
  listPage(params: OrderListParams = {}, options?: RequestOptions): Promise<OrderList> {
    return this.requester.request({ method: 'GET', path: '/v1/orders', query: { ...params }, options });
  }

  /** Every order, newest first, fetching page after page: `for await (const order of orders.list())`. */
  list(params: OrderListParams = {}, options?: RequestOptions): AsyncGenerator<Order, void, undefined> {
    return autoPaginate(params, (page) => this.listPage(page, options), (page) => page.orders);
  }

  /** A decline is not an error: the order comes back with status `FAILED` and a `failureCode`. */
  pay(orderId: string, params: OrderPayParams, options?: RequestOptions): Promise<Order> {
    return this.requester.request({ method: 'POST', path: `/v1/orders/${id(orderId)}/pay`, body: params, options });
  }

  capture(orderId: string, params: OrderCaptureParams = {}, options?: RequestOptions): Promise<Order> {
    return this.requester.request({ method: 'POST', path: `/v1/orders/${id(orderId)}/capture`, body: params, options });
  }

  cancel(orderId: string, options?: RequestOptions): Promise<Order> {
    return this.requester.request({ method: 'POST', path: `/v1/orders/${id(orderId)}/cancel`, body: {}, options });
  }

  refund(orderId: string, params: OrderRefundParams = {}, options?: RequestOptions): Promise<Refund> {
    return this.requester.request({ method: 'POST', path: `/v1/orders/${id(orderId)}/refund`, body: params, options });
  }

  /** Every charge, authorization, capture, void and refund attempt of the order, in order. */
  async transactions(orderId: string, options?: RequestOptions): Promise<Transaction[]> {
    const path = `/v1/orders/${id(orderId)}/transactions`;
    const answer = await this.requester.request<{ transactions?: Transaction[] }>({ method: 'GET', path, options });
    return answer.transactions ?? [];
  }
}

export class Refunds {
  constructor(private readonly requester: Requester) {}

  retrieve(refundId: string, options?: RequestOptions): Promise<Refund> {
    return this.requester.request({ method: 'GET', path: `/v1/refunds/${id(refundId)}`, options });
  }
}

export class CheckoutSessions {
  constructor(private readonly requester: Requester) {}

  /**
   * A hosted payment page for the order: redirect the customer to the session's `url`. One `OPEN`
   * session per order: a second rejects with a `ConflictError` (`CHECKOUT_SESSION_ALREADY_OPEN`,
   * the open one's id in `error.metadata.sessionId`).
   */
  create(params: CheckoutSessionCreateParams, options?: RequestOptions): Promise<CheckoutSession> {
    return this.requester.request({ method: 'POST', path: '/v1/checkout/sessions', body: params, options });
  }

  retrieve(sessionId: string, options?: RequestOptions): Promise<CheckoutSession> {
    return this.requester.request({ method: 'GET', path: `/v1/checkout/sessions/${id(sessionId)}`, options });
  }

  /**
   * Closes an `OPEN` session (its page stops taking payments); any other rejects with an
   * `InvalidRequestError` (`CHECKOUT_SESSION_NOT_OPEN`).
   */
  expire(sessionId: string, options?: RequestOptions): Promise<CheckoutSession> {
    const path = `/v1/checkout/sessions/${id(sessionId)}/expire`;
    return this.requester.request({ method: 'POST', path, body: {}, options });
  }
}

/** The merchant API (`/v1/*`), authenticated with an API key (`sk_test_…` / `sk_live_…`). */
export class PayLoops {
  static readonly webhooks = webhooks;
  readonly webhooks = webhooks;
  readonly baseUrl: string;
  readonly orders: Orders;
  readonly refunds: Refunds;
  readonly checkout: { readonly sessions: CheckoutSessions };

  constructor(apiKey: string, options: ClientOptions = {}) {
    if (!apiKey) throw new TypeError('PayLoops: an API key is required');
    const requester = new Requester({ 'x-api-key': apiKey }, options);
    this.orders = new Orders(requester);
    this.refunds = new Refunds(requester);
    this.checkout = { sessions: new CheckoutSessions(requester) };
    this.baseUrl = requester.baseUrl;
  }
}
