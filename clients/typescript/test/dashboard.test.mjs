// The dashboard API through the SDK: accounts, merchant, API keys, processors, routing (analytics: analytics.test.mjs).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import util from 'node:util';

import { AuthenticationError, Dashboard, PayLoops } from '../dist/esm/index.js';
import { baseUrl, client, dashboard, dashboardToken, eventually, marker } from './helpers.mjs';

const admin = dashboard();

test('register and log in to a new account', async () => {
  const email = `${marker('sdk')}@example.com`;
  const password = `pw-${randomBytes(9).toString('base64url')}-7a`;
  const registered = await Dashboard.register({ email, password, name: 'SDK Shop' }, { baseUrl });
  assert.match(registered.merchant.id, /^mer_/);
  assert.equal(registered.merchant.email, email);
  assert.ok(registered.token && registered.expiresAt);

  const login = await Dashboard.login({ email, password }, { baseUrl });
  const merchant = await new Dashboard(login.token, { baseUrl }).merchant.retrieve();
  assert.equal(merchant.id, registered.merchant.id);

  const refused = await Dashboard.login({ email, password: `${password}x` }, { baseUrl }).catch((e) => e);
  assert.ok(refused instanceof AuthenticationError, refused);
  assert.ok(!refused.message.includes(password));
});

test('a bad token is an AuthenticationError; the client hides its token', async () => {
  const error = await new Dashboard('not-a-token', { baseUrl }).merchant.retrieve().catch((e) => e);
  assert.ok(error instanceof AuthenticationError);
  assert.ok(!util.inspect(admin, { depth: 10, showHidden: true }).includes(dashboardToken));
});

test('retrieve and update the merchant', async () => {
  const before = await admin.merchant.retrieve();
  const name = marker('Shop');
  const updated = await admin.merchant.update({ name });
  assert.equal(updated.id, before.id);
  assert.equal(updated.name, name);
  assert.equal((await admin.merchant.retrieve()).name, name);
});

test('create, list and revoke an API key', async () => {
  const created = await admin.apiKeys.create({ mode: 'test', name: 'sdk test' });
  assert.match(created.secret, /^sk_test_/);
  const listed = await admin.apiKeys.list();
  const entry = listed.find((k) => k.id === created.apiKey.id);
  assert.ok(entry && !JSON.stringify(listed).includes(created.secret));
  assert.ok(created.secret.startsWith(entry.prefix));

  await new PayLoops(created.secret, { baseUrl }).orders.listPage({ pageSize: 1 });
  const revoked = await admin.apiKeys.revoke(created.apiKey.id);
  assert.equal(revoked.id, created.apiKey.id);
  assert.ok(revoked.revokedAt);
  const error = await new PayLoops(created.secret, { baseUrl }).orders.listPage().catch((e) => e);
  assert.ok(error instanceof AuthenticationError);
});

test('list and upsert processors; credentials come back masked', async () => {
  const keySecret = randomBytes(12).toString('hex');
  const credentials = { keyId: `rzp_test_${randomBytes(7).toString('hex')}`, keySecret, webhookSecret: randomBytes(16).toString('hex') };
  const saved = await admin.processors.upsert({ processor: 'razorpay', credentials, enabled: true });
  assert.equal(saved.processor, 'razorpay');
  assert.equal(saved.enabled, true);
  assert.ok(!JSON.stringify(saved).includes(keySecret));
  const listed = await admin.processors.list();
  assert.deepEqual(listed.map((p) => p.processor).sort(), ['razorpay', 'stripe']);
  assert.ok(!JSON.stringify(listed).includes(keySecret));
});

test('routing rules steer the simulation; stats are listed', async () => {
  const rule = await admin.routingRules.create({ priority: 1, conditions: { currency: 'JPY' }, action: { single: { processor: 'razorpay' } } });
  try {
    assert.match(rule.id, /^rr_/);
    assert.ok((await admin.routingRules.list()).some((r) => r.id === rule.id));
    // Routing reads a merchant's rules through a cache of a few seconds: a new rule applies within it.
    const simulation = await eventually(async () => {
      const found = await admin.routing.simulate({ amount: 500, currency: 'JPY', paymentMethod: { type: 'card' } });
      return found.candidates[0].ruleId === rule.id && found;
    }, { seconds: 30, what: 'the new rule to steer the simulation' });
    assert.equal(simulation.candidates[0].processor, 'razorpay');
    assert.equal(simulation.candidates[0].ruleId, rule.id);
  } finally {
    assert.equal((await admin.routingRules.delete(rule.id)).id, rule.id);
  }
  assert.ok(!(await admin.routingRules.list()).some((r) => r.id === rule.id));

  await client().orders.pay((await client().orders.create({ amount: 700, currency: 'USD' })).id, { paymentMethod: { type: 'card', token: 'pm_card_visa' } });
  const stats = await admin.routing.stats();
  assert.ok(Array.isArray(stats));
  assert.ok(stats.some((s) => s.processor === 'stripe' && s.sampleCount > 0), JSON.stringify(stats));
});

test('the dashboard lists the merchant orders page by page', async () => {
  const created = [];
  for (let i = 0; i < 4; i++) created.push((await client().orders.create({ amount: 321 + i, currency: 'USD' })).id);
  const first = await admin.orders.listPage({ pageSize: 1 });
  assert.equal(first.orders[0].id, created.at(-1));
  assert.ok(first.nextPageToken);
  const seen = new Set();
  for await (const found of admin.orders.list({ pageSize: 3 })) seen.add(found.id);
  assert.ok(created.every((id) => seen.has(id)));
});
