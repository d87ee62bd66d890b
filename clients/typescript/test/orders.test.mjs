// The merchant API through the SDK: orders, refunds, transactions, pagination, errors (checkout sessions: checkout.test.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import util from 'node:util';

import {
  AuthenticationError, InvalidRequestError, NotFoundError, PayLoops, PayLoopsError,
} from '../dist/esm/index.js';
import { apiKey, baseUrl, client, eventually, marker, VISA } from './helpers.mjs';

const payloops = client();

test('create, retrieve, pay, refund and read the transactions of an order', async () => {
  const description = marker('lifecycle');
  const order = await payloops.orders.create({ amount: 2500, currency: 'EUR', description, metadata: { sku: 'a-1' } });
  assert.deepEqual(await payloops.orders.retrieve(order.id), order);
  assert.deepEqual(order.metadata, { sku: 'a-1' });

  const paid = await payloops.orders.pay(order.id, { paymentMethod: VISA });
  assert.equal(paid.status, 'SUCCEEDED');
  assert.equal(paid.processor, 'stripe');

  const refund = await payloops.orders.refund(order.id, { amount: 500, reason: 'requested_by_customer' });
  assert.match(refund.id, /^ref_/);
  assert.equal(refund.orderId, order.id);
  assert.equal(refund.amount, 500);
  const settled = await eventually(async () => {
    const found = await payloops.refunds.retrieve(refund.id);
    return found.status !== 'PENDING' && found;
  }, { what: 'the refund to settle' });
  assert.equal(settled.status, 'SUCCEEDED');
  assert.equal((await payloops.orders.retrieve(order.id)).status, 'PARTIALLY_REFUNDED');

  const transactions = await payloops.orders.transactions(order.id);
  assert.deepEqual(transactions.map((t) => t.type), ['CHARGE', 'REFUND']);
  assert.equal(transactions[0].status, 'SUCCEEDED');
  assert.equal(transactions[0].routingDecision.approach.length > 0, true);
});

test('a manual-capture order is authorized, then captured; another is cancelled', async () => {
  const manual = await payloops.orders.create({ amount: 3000, currency: 'USD', captureMethod: 'MANUAL' });
  assert.equal((await payloops.orders.pay(manual.id, { paymentMethod: VISA })).status, 'AUTHORIZED');
  const captured = await payloops.orders.capture(manual.id, { amount: 3000 });
  assert.equal(captured.status, 'SUCCEEDED');
  assert.equal(captured.amountCaptured, 3000);

  const voided = await payloops.orders.create({ amount: 3000, currency: 'USD', captureMethod: 'MANUAL' });
  await payloops.orders.pay(voided.id, { paymentMethod: VISA });
  assert.equal((await payloops.orders.cancel(voided.id)).status, 'CANCELLED');
  const unpaid = await payloops.orders.create({ amount: 100, currency: 'USD' });
  assert.equal((await payloops.orders.cancel(unpaid.id)).status, 'CANCELLED');
});

test('a decline is an order with status FAILED, not an error', async () => {
  const order = await payloops.orders.create({ amount: 1999, currency: 'USD' });
  const declined = await payloops.orders.pay(order.id, { paymentMethod: { type: 'card', token: 'pm_card_visa_chargeDeclined' } });
  assert.equal(declined.status, 'FAILED');
  assert.equal(declined.failureCode, 'card_declined');
});

test('list follows nextPageToken over every page', async () => {
  const description = marker('page');
  const created = [];
  for (let i = 0; i < 5; i++) created.push((await payloops.orders.create({ amount: 100 + i, currency: 'USD', description })).id);

  let pageRequests = 0;
  const counting = client({ fetch: (url, init) => { if (new URL(url).pathname === '/v1/orders') pageRequests++; return fetch(url, init); } });
  const seen = [];
  for await (const order of counting.orders.list({ pageSize: 2 })) {
    if (order.description === description) seen.push(order.id);
    if (seen.length === created.length) break;
  }
  assert.deepEqual(new Set(seen), new Set(created));
  assert.ok(pageRequests >= 3, `5 orders at 2 a page take at least 3 pages, fetched ${pageRequests}`);

  const page = await payloops.orders.listPage({ pageSize: 2 });
  assert.equal(page.orders.length, 2);
  assert.ok(page.nextPageToken);
  const next = await payloops.orders.listPage({ pageSize: 2, pageToken: page.nextPageToken });
  assert.notDeepEqual(next.orders.map((o) => o.id), page.orders.map((o) => o.id));
});

test('bad input is an InvalidRequestError with the reason and the field violations', async () => {
  const error = await payloops.orders.create({ amount: 0, currency: 'USD' }).then(() => assert.fail('accepted'), (e) => e);
  assert.ok(error instanceof InvalidRequestError && error instanceof PayLoopsError);
  assert.equal(error.status, 400);
  assert.equal(error.reason, 'AMOUNT_INVALID');
  assert.deepEqual(error.fieldViolations.map((v) => v.field), ['amount']);
  assert.ok(error.message);
});

test('a bad key is an AuthenticationError that does not reveal the key', async () => {
  const secret = 'sk_test_definitely_not_a_real_key_123456';
  const error = await new PayLoops(secret, { baseUrl }).orders.listPage().then(() => assert.fail('accepted'), (e) => e);
  assert.ok(error instanceof AuthenticationError);
  assert.equal(error.status, 401);
  assert.ok(!util.inspect(error, { depth: 5 }).includes(secret) && !String(error).includes(secret));
});

test('an unknown order is a NotFoundError', async () => {
  const error = await payloops.orders.retrieve('ord_doesnotexist000000').then(() => assert.fail('found'), (e) => e);
  assert.ok(error instanceof NotFoundError);
  assert.equal(error.status, 404);
});

test('the client hides its key from toString and util.inspect', () => {
  const inspected = util.inspect(payloops, { depth: 10, showHidden: true }) + String(payloops) + JSON.stringify(payloops);
  assert.ok(!inspected.includes(apiKey));
});
