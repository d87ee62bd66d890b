// Webhook verification of real deliveries from the platform to a local endpoint.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { WebhookVerificationError, webhooks } from '../dist/esm/index.js';
import PayLoops from '../dist/esm/index.js';
import { client, dashboard, eventually, readBody, serve, VISA } from './helpers.mjs';

const admin = dashboard();
const received = [];
let receiver;
let endpoint;

before(async () => {
  receiver = await serve(async (request, response) => {
    received.push({ body: await readBody(request), headers: request.headers });
    response.writeHead(200).end();
  });
  endpoint = await admin.webhookEndpoints.create({ url: `${receiver.url}/hooks`, events: ['order.succeeded'] });
});

after(async () => {
  await admin.webhookEndpoints.delete(endpoint.id);
  await receiver.close();
});

const deliveryOf = (orderId) => () =>
  received.find((d) => JSON.parse(d.body.toString()).data?.object?.id === orderId);

test('the endpoint is listed with its signing secret shown on create', async () => {
  assert.match(endpoint.id, /^we_/);
  assert.match(endpoint.secret, /^whsec_/);
  assert.ok((await admin.webhookEndpoints.list()).some((e) => e.id === endpoint.id));
});

test('a real delivery verifies; a tampered body, a stale timestamp or another secret do not', async () => {
  const order = await client().orders.create({ amount: 1234, currency: 'USD' });
  await client().orders.pay(order.id, { paymentMethod: VISA });
  const delivery = await eventually(deliveryOf(order.id), { what: 'the order.succeeded delivery' });

  const event = await webhooks.verify(delivery.body, delivery.headers, endpoint.secret, { toleranceSeconds: 300 });
  assert.equal(event.type, 'order.succeeded');
  assert.equal(event.data.object.id, order.id);
  assert.equal(event.data.object.status, 'SUCCEEDED');
  const asText = await PayLoops.webhooks.verify(delivery.body.toString(), new Headers(delivery.headers), endpoint.secret);
  assert.deepEqual(asText, event);

  const rejects = (promise, pattern) => assert.rejects(promise, (e) => e instanceof WebhookVerificationError && pattern.test(e.message));
  const tampered = delivery.body.toString().replace('1234', '1235');
  await rejects(webhooks.verify(tampered, delivery.headers, endpoint.secret), /signature/);
  const stale = Number(delivery.headers['webhook-timestamp']) + 301;
  await rejects(webhooks.verify(delivery.body, delivery.headers, endpoint.secret, { nowSeconds: stale }), /timestamp/);
  const otherSecret = `whsec_${Buffer.from('another secret of 32 bytes......').toString('base64')}`;
  await rejects(webhooks.verify(delivery.body, delivery.headers, otherSecret), /signature/);
  const unsigned = { ...delivery.headers };
  delete unsigned['webhook-signature'];
  await rejects(webhooks.verify(delivery.body, unsigned, endpoint.secret), /missing/);
  await assert.rejects(webhooks.verify(tampered, delivery.headers, endpoint.secret), (e) => !e.message.includes(endpoint.secret));
});

test('webhook events are listed page by page and can be replayed', async () => {
  const order = await client().orders.create({ amount: 555, currency: 'USD' });
  await client().orders.pay(order.id, { paymentMethod: VISA });
  await eventually(deliveryOf(order.id), { what: 'the first delivery' });
  const deliveriesOfOrder = () => received.filter((d) => JSON.parse(d.body.toString()).data?.object?.id === order.id);

  let pages = 0;
  const counting = dashboard({
    fetch: (url, init) => {
      if (new URL(url).pathname === '/api/webhook-events') pages++;
      return fetch(url, init);
    },
  });
  const events = [];
  for await (const found of counting.webhookEvents.list({ pageSize: 1, type: 'order.succeeded' })) events.push(found);
  assert.ok(events.length >= 2 && pages > 1, `${events.length} events in ${pages} pages`);
  const event = events.find((e) => e.data?.object?.id === order.id);
  assert.ok(event?.deliveries.some((d) => d.endpointId === endpoint.id), JSON.stringify(event));

  const before = deliveriesOfOrder().length;
  const deliveries = await admin.webhookEvents.replay(event.id, { endpointId: endpoint.id });
  assert.equal(deliveries.length, 1);
  await eventually(() => deliveriesOfOrder().length > before, { what: 'the replayed delivery' });
  const replayed = deliveriesOfOrder().at(-1);
  assert.equal((await webhooks.verify(replayed.body, replayed.headers, endpoint.secret)).id, event.id);
});
