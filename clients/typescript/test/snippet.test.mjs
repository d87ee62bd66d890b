// The quick start snippet, as written in the README (only the key and the token differ).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import PayLoops from '../dist/esm/index.js';

test('the quick start snippet pays an order', async () => {
  const client = new PayLoops(process.env.PAYLOOPS_API_KEY);
  const order = await client.orders.create({ amount: 1999, currency: 'USD', customerEmail: 'customer@example.com' });
  const result = await client.orders.pay(order.id, { paymentMethod: { type: 'card', token: 'pm_card_visa' } });

  assert.match(order.id, /^ord_/);
  assert.equal(order.status, 'CREATED');
  assert.equal(order.customerEmail, 'customer@example.com');
  assert.equal(result.id, order.id);
  assert.equal(result.status, 'SUCCEEDED');
  assert.equal(result.amountCaptured, 1999);
});
