// Retries: one idempotency key per POST, reused across retries, so a retried create runs once;
// backoff honouring Retry-After on 429/503; timeouts; what is not retried.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { APIConnectionError, ConflictError, InvalidRequestError, PayLoops, RateLimitError } from '../dist/esm/index.js';
import { apiKey, baseUrl, client, marker, readBody, serve } from './helpers.mjs';

/** Forwards a request to the gateway; resolves with its status, headers and body. */
function forward(request, body) {
  const target = new URL(request.url, baseUrl);
  return new Promise((resolve, reject) => {
    const upstream = http.request(target, { method: request.method, headers: { ...request.headers, host: target.host } }, (answer) => {
      readBody(answer).then((data) => resolve({ status: answer.statusCode, headers: answer.headers, body: data }), reject);
    });
    upstream.on('error', reject);
    upstream.end(body);
  });
}

test('a create whose answer is lost is retried with the same key and runs once', async () => {
  const posts = [];
  let lostAnswer;
  const proxy = await serve(async (request, response) => {
    const body = await readBody(request);
    const upstream = await forward(request, body);
    if (request.method === 'POST' && request.url === '/v1/orders') {
      posts.push(request.headers['idempotency-key']);
      if (posts.length === 1) {
        lostAnswer = JSON.parse(upstream.body.toString());
        request.socket.destroy(); // the order exists, but the client never hears of it
        return;
      }
    }
    response.writeHead(upstream.status, { 'content-type': upstream.headers['content-type'] ?? 'application/json' });
    response.end(upstream.body);
  });
  try {
    const description = marker('retried');
    const order = await new PayLoops(apiKey, { baseUrl: proxy.url }).orders.create({ amount: 4242, currency: 'USD', description });

    assert.equal(posts.length, 2);
    assert.ok(posts[0], 'an Idempotency-Key was sent');
    assert.equal(posts[1], posts[0], 'the retry reused the key');
    assert.equal(order.id, lostAnswer.id, 'the retry answered the first execution');
    const matching = [];
    for await (const found of client().orders.list({ pageSize: 100 })) if (found.description === description) matching.push(found.id);
    assert.deepEqual(matching, [order.id], 'one order was created');
  } finally {
    await proxy.close();
  }
});

/** A stub gateway answering each request with the next scripted answer; records what it received. */
async function stub(script) {
  const received = [];
  const server = await serve(async (request, response) => {
    await readBody(request);
    received.push({ at: Date.now(), key: request.headers['idempotency-key'], apiKey: request.headers['x-api-key'] });
    const [status, headers, body] = script[Math.min(received.length, script.length) - 1];
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  });
  return { ...server, received };
}

const status = (code, grpc, reason, message = reason) => ({
  code: grpc,
  message,
  details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'payloops.dev', metadata: {} }],
});
const ORDER = { id: 'ord_stubbed', status: 'CREATED', amount: 1, currency: 'USD' };

test('429 and 503 are retried after Retry-After with the same key', async () => {
  const server = await stub([
    [429, { 'retry-after': '1' }, status(429, 8, 'RATE_LIMITED')],
    [503, { 'retry-after': '1' }, status(503, 14, 'UNAVAILABLE')],
    [200, {}, ORDER],
  ]);
  try {
    const order = await new PayLoops('sk_test_stub', { baseUrl: server.url }).orders.create({ amount: 1, currency: 'USD' });
    assert.equal(order.id, 'ord_stubbed');
    const [first, second, third] = server.received;
    assert.equal(server.received.length, 3);
    assert.ok(first.key && second.key === first.key && third.key === first.key);
    assert.ok(second.at - first.at >= 950, `waited ${second.at - first.at} ms of Retry-After: 1`);
    assert.ok(third.at - second.at >= 950, `waited ${third.at - second.at} ms of Retry-After: 1`);
    assert.equal(first.apiKey, 'sk_test_stub');
  } finally {
    await server.close();
  }
});

test('retries stop at maxNetworkRetries and surface the typed error', async () => {
  const server = await stub([[429, { 'retry-after': '0' }, status(429, 8, 'RATE_LIMITED', 'slow down')]]);
  try {
    const payloops = new PayLoops('sk_test_stub', { baseUrl: server.url, maxNetworkRetries: 1 });
    const error = await payloops.orders.retrieve('ord_x').then(() => assert.fail('answered'), (e) => e);
    assert.ok(error instanceof RateLimitError);
    assert.equal(error.status, 429);
    assert.equal(error.reason, 'RATE_LIMITED');
    assert.equal(server.received.length, 2);
  } finally {
    await server.close();
  }
});

test('IDEMPOTENCY_KEY_IN_USE is retried; IDEMPOTENCY_KEY_REUSED and 400 are not', async () => {
  const inUse = await stub([[409, {}, status(409, 10, 'IDEMPOTENCY_KEY_IN_USE')], [200, {}, ORDER]]);
  const reused = await stub([[409, {}, status(409, 6, 'IDEMPOTENCY_KEY_REUSED')]]);
  const invalid = await stub([[400, {}, status(400, 3, 'AMOUNT_INVALID')]]);
  try {
    const key = 'my-own-key-1';
    const order = await new PayLoops('sk_test_stub', { baseUrl: inUse.url }).orders.create({ amount: 1, currency: 'USD' }, { idempotencyKey: key });
    assert.equal(order.id, 'ord_stubbed');
    assert.deepEqual(inUse.received.map((r) => r.key), [key, key]);

    const conflict = await new PayLoops('sk_test_stub', { baseUrl: reused.url }).orders.create({ amount: 1, currency: 'USD' }).catch((e) => e);
    assert.ok(conflict instanceof ConflictError && conflict.reason === 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(reused.received.length, 1);

    const bad = await new PayLoops('sk_test_stub', { baseUrl: invalid.url }).orders.create({ amount: 1, currency: 'USD' }).catch((e) => e);
    assert.ok(bad instanceof InvalidRequestError);
    assert.equal(invalid.received.length, 1);
  } finally {
    await Promise.all([inUse.close(), reused.close(), invalid.close()]);
  }
});

test('a request that outlasts timeoutMs is an APIConnectionError after its retries', async () => {
  let attempts = 0;
  const silent = await serve(() => { attempts++; }); // never answers
  try {
    const payloops = new PayLoops('sk_test_stub', { baseUrl: silent.url, timeoutMs: 200, maxNetworkRetries: 1 });
    const error = await payloops.orders.retrieve('ord_x').then(() => assert.fail('answered'), (e) => e);
    assert.ok(error instanceof APIConnectionError);
    assert.match(error.message, /timed out/);
    assert.ok(!error.message.includes('sk_test_stub'));
    assert.equal(attempts, 2);
  } finally {
    await silent.close();
  }
});
