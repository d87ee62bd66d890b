// The analytics summary through the SDK, for a merchant registered here: its figures are
// exactly the orders it created, paid, declined and refunded.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, test } from 'node:test';

import { Dashboard, InvalidRequestError, PayLoops } from '../dist/esm/index.js';
import { baseUrl, eventually, marker, VISA } from './helpers.mjs';

const DECLINED = { type: 'card', token: 'pm_card_visa_chargeDeclined' };
const hex = (bytes) => randomBytes(bytes).toString('hex');

let admin;
let start;
let orders;

/** A new account with the Stripe sandbox and a test key: no order but the ones created here. */
async function freshMerchant() {
  const email = `${marker('analytics')}@example.com`;
  const password = `pw-${randomBytes(9).toString('base64url')}-7a`;
  const { token } = await Dashboard.register({ email, password, name: 'Analytics Shop' }, { baseUrl });
  const dashboard = new Dashboard(token, { baseUrl });
  const credentials = { secretKey: `sk_test_${hex(12)}`, webhookSecret: `whsec_${hex(16)}` };
  await dashboard.processors.upsert({ processor: 'stripe', credentials, enabled: true });
  const { secret } = await dashboard.apiKeys.create({ mode: 'test', name: 'analytics' });
  return { dashboard, payloops: new PayLoops(secret, { baseUrl }) };
}

before(async () => {
  const merchant = await freshMerchant();
  admin = merchant.dashboard;
  const { payloops } = merchant;
  start = new Date(Date.now() - 1000);
  const paid = await payloops.orders.create({ amount: 1000, currency: 'USD' });
  assert.equal((await payloops.orders.pay(paid.id, { paymentMethod: VISA })).status, 'SUCCEEDED');
  const declined = await payloops.orders.create({ amount: 2000, currency: 'USD' });
  assert.equal((await payloops.orders.pay(declined.id, { paymentMethod: DECLINED })).status, 'FAILED');
  const unpaid = await payloops.orders.create({ amount: 500, currency: 'EUR' });
  const refund = await payloops.orders.refund(paid.id, { amount: 200 });
  const settled = await eventually(async () => {
    const found = await payloops.refunds.retrieve(refund.id);
    return found.status !== 'PENDING' && found;
  }, { what: 'the refund to settle' });
  assert.equal(settled.status, 'SUCCEEDED');
  orders = await Promise.all([paid, declined, unpaid].map((order) => payloops.orders.retrieve(order.id)));
});

/** `{USD: 1000}` from `[{currency: 'USD', amount: '1000'}]`, without the zero sums. */
function money(volumes) {
  for (const { amount } of volumes) assert.equal(typeof amount, 'string', 'int64 sums are decimal strings');
  return Object.fromEntries(volumes.filter((v) => BigInt(v.amount) !== 0n).map((v) => [v.currency, Number(v.amount)]));
}

function assertIsTheBooks(summary) {
  assert.deepEqual(orders.map((o) => o.status), ['PARTIALLY_REFUNDED', 'FAILED', 'CREATED']);
  const { totals } = summary;
  assert.equal(totals.count, 3);
  assert.equal(totals.succeeded, 1);
  assert.deepEqual(money(totals.volume), { EUR: 500, USD: 3000 });
  assert.deepEqual(money(totals.capturedVolume), { USD: 1000 });
  assert.equal(totals.refunds.count, 1);
  assert.deepEqual(money(totals.refunds.volume), { USD: 200 });

  assert.deepEqual(
    Object.fromEntries(summary.byStatus.map((s) => [s.status, [s.count, money(s.volume)]])),
    Object.fromEntries(orders.map((o) => [o.status, [1, { [o.currency]: o.amount }]])),
  );
  assert.equal(summary.byProcessor.length, 1);
  const [stripe] = summary.byProcessor;
  assert.deepEqual([stripe.processor, stripe.attempted, stripe.succeeded, stripe.successRate], ['stripe', 2, 1, 0.5]);
  assert.deepEqual(money(stripe.volume), { USD: 1000 });
  assert.deepEqual(summary.failureCodes, [{ code: 'card_declined', count: 1 }]);

  assert.deepEqual(summary.byCurrency.map((c) => c.currency), ['EUR', 'USD']);
  const [eur, usd] = summary.byCurrency;
  assert.deepEqual(usd, {
    currency: 'USD', count: 2, volume: '3000', succeeded: 1, capturedVolume: '1000', refundCount: 1, refundedVolume: '200',
  });
  assert.deepEqual([eur.count, eur.volume, eur.succeeded, eur.refundCount], [1, '500', 0, 0]);

  assert.equal(summary.daily.reduce((sum, day) => sum + day.count, 0), 3);
  assert.equal(summary.daily.reduce((sum, day) => sum + day.succeeded, 0), 1);
}

test('the summary of a fresh merchant is the orders it created', async () => {
  const to = new Date(Date.now() + 60_000);
  const summary = await admin.analytics.summary({ from: start, to });
  assertIsTheBooks(summary);
  const first = start.toISOString().slice(0, 10);
  const last = new Date(to.getTime() - 1).toISOString().slice(0, 10);
  assert.equal(summary.daily[0].date, first);
  assert.equal(summary.daily.at(-1).date, last);

  assertIsTheBooks(await admin.analytics.summary()); // the last 30 days
  assertIsTheBooks(await admin.analytics.summary({ from: start.toISOString(), to: to.toISOString(), mode: 'test' }));
});

test('live mode sees none of them; a backwards range is an InvalidRequestError', async () => {
  const to = new Date(Date.now() + 60_000);
  const live = await admin.analytics.summary({ from: start, to, mode: 'live' });
  assert.equal(live.totals.count, 0);
  assert.deepEqual([live.byStatus, live.byProcessor, live.failureCodes], [[], [], []]);

  const error = await admin.analytics.summary({ from: to, to: start }).then(() => assert.fail('accepted'), (e) => e);
  assert.ok(error instanceof InvalidRequestError, error);
  assert.equal(error.reason, 'TIME_RANGE_INVALID');
  assert.deepEqual(error.fieldViolations.map((v) => v.field), ['from']);
});
