// The outbound webhook event types of the contract.
export const EVENT_TYPES: readonly string[] = [
  'order.succeeded',
  'order.failed',
  'order.requires_action',
  'order.authorized',
  'order.cancelled',
  'refund.succeeded',
  'refund.failed',
  'checkout.session.completed',
  'checkout.session.expired',
];
