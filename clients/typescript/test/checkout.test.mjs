// Hosted checkout sessions through the SDK: the lifecycle and its typed errors, a session
// closed by its order's payment or by its expiry timer, and the events of both.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ConflictError, InvalidRequestError, NotFoundError, webhooks } from '../dist/esm/index.js';
import { baseUrl, client, dashboard, eventually, VISA } from './helpers.mjs';

const payloops = client();
const admin = dashboard();
const urls = { successUrl: 'https://shop.example/thanks?cart=7', cancelUrl: 'https://shop.example/cart' };
const rejection = (promise) => promise.then(() => assert.fail('accepted'), (error) => error);

test('create, retrieve and expire a session; expiring it again is a typed error', async () => {
  const order = await payloops.orders.create({ amount: 1999, currency: 'USD' });
  const session = await payloops.checkout.sessions.create({ orderId: order.id, ...urls });
  assert.match(session.id, /^cs_/);
  assert.equal(session.orderId, order.id);
  assert.equal(session.status, 'OPEN');
  assert.equal(session.url, `${baseUrl}/checkout/${session.id}`);
  assert.equal(session.successUrl, urls.successUrl);
  assert.equal(session.cancelUrl, urls.cancelUrl);
  assert.equal(Date.parse(session.expiresAt) - Date.parse(session.createdAt), 86_400_000);
  assert.deepEqual(await payloops.checkout.sessions.retrieve(session.id), session);

  const conflict = await rejection(payloops.checkout.sessions.create({ orderId: order.id, ...urls }));
  assert.ok(conflict instanceof ConflictError, conflict);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.reason, 'CHECKOUT_SESSION_ALREADY_OPEN');
  assert.equal(conflict.metadata.sessionId, session.id);

  const expired = await payloops.checkout.sessions.expire(session.id);
  assert.equal(expired.id, session.id);
  assert.equal(expired.status, 'EXPIRED');
  const again = await rejection(payloops.checkout.sessions.expire(session.id));
  assert.ok(again instanceof InvalidRequestError, again);
  assert.equal(again.status, 400);
  assert.equal(again.reason, 'CHECKOUT_SESSION_NOT_OPEN');
  assert.equal((await payloops.checkout.sessions.retrieve(session.id)).status, 'EXPIRED');

  const missing = await rejection(payloops.checkout.sessions.retrieve('cs_doesnotexist000000'));
  assert.ok(missing instanceof NotFoundError, missing);
  assert.equal(missing.reason, 'CHECKOUT_SESSION_NOT_FOUND');
});

test('bad input is an InvalidRequestError with its field violations', async () => {
  const order = await payloops.orders.create({ amount: 900, currency: 'USD' });
  const error = await rejection(payloops.checkout.sessions.create({
    orderId: order.id, successUrl: 'ftp://shop.example/thanks', cancelUrl: urls.cancelUrl, expiresInSeconds: 86_401,
  }));
  assert.ok(error instanceof InvalidRequestError, error);
  assert.equal(error.status, 400);
  assert.equal(error.reason, 'CHECKOUT_SESSION_INVALID');
  assert.deepEqual(error.fieldViolations.map((v) => v.field), ['success_url', 'expires_in_seconds']);

  await payloops.orders.pay(order.id, { paymentMethod: VISA });
  const paid = await rejection(payloops.checkout.sessions.create({ orderId: order.id, ...urls }));
  assert.ok(paid instanceof InvalidRequestError, paid);
  assert.equal(paid.reason, 'ORDER_NOT_PAYABLE');
});

/** The listed event of `type` about the session, once it is there. */
const eventAbout = (type, sessionId) => eventually(async () => {
  for await (const event of admin.webhookEvents.list({ type, pageSize: 50 })) {
    if (event.data.object.id === sessionId) return event;
  }
  return undefined;
}, { what: `the ${type} event of ${sessionId}` });

test('a session completes when its order is paid, and expires on its timer', async () => {
  const order = await payloops.orders.create({ amount: 2100, currency: 'USD' });
  const session = await payloops.checkout.sessions.create({ orderId: order.id, ...urls });
  assert.equal((await payloops.orders.pay(order.id, { paymentMethod: VISA })).status, 'SUCCEEDED');
  assert.equal((await payloops.checkout.sessions.retrieve(session.id)).status, 'COMPLETE');

  const short = await payloops.orders.create({ amount: 2200, currency: 'USD' });
  // The platform under test allows 2 s; the contract's least is 1800 s.
  const brief = await payloops.checkout.sessions.create({ orderId: short.id, ...urls, expiresInSeconds: 2 });
  assert.equal(Date.parse(brief.expiresAt) - Date.parse(brief.createdAt), 2_000);
  const expired = await eventually(async () => {
    const found = await payloops.checkout.sessions.retrieve(brief.id);
    return found.status !== 'OPEN' && found;
  }, { what: 'the session to expire' });
  assert.equal(expired.status, 'EXPIRED');

  for (const [type, id, status] of [
    ['checkout.session.completed', session.id, 'COMPLETE'],
    ['checkout.session.expired', brief.id, 'EXPIRED'],
  ]) {
    const event = await eventAbout(type, id);
    assert.ok(webhooks.isEventType(event, type));
    assert.ok(!webhooks.isEventType(event, 'order.succeeded'));
    assert.equal(event.data.object.status, status);
    assert.equal(event.data.object.orderId, id === session.id ? order.id : short.id);
  }
});
