// Shared by the tests: the target platform (from the environment), polling with a deadline
// and small local HTTP servers on free 127.0.0.1 ports.
//
//   PAYLOOPS_BASE_URL         the gateway's REST address (required)
//   PAYLOOPS_API_KEY          a test-mode API key of a merchant with sandbox processors (required)
//   PAYLOOPS_DASHBOARD_TOKEN  a dashboard token of the same merchant (required)
//   PAYLOOPS_SDK_TARBALL      the `npm pack` tarball to install (optional: packed on the fly)
import http from 'node:http';

import { Dashboard, PayLoops } from '../dist/esm/index.js';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} to run the tests against a platform`);
  return value;
}

export const baseUrl = required('PAYLOOPS_BASE_URL');
export const apiKey = required('PAYLOOPS_API_KEY');
export const dashboardToken = required('PAYLOOPS_DASHBOARD_TOKEN');

export const client = (options = {}) => new PayLoops(apiKey, { baseUrl, ...options });
export const dashboard = (options = {}) => new Dashboard(dashboardToken, { baseUrl, ...options });

export const VISA = { type: 'card', token: 'pm_card_visa' };

/** Calls `probe` until it returns something truthy; fails once `seconds` have passed. */
export async function eventually(probe, { seconds = 60, what = 'the condition' } = {}) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Starts `handler` on a free 127.0.0.1 port; returns the server and its base URL. */
export async function serve(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { server, url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

function closeServer(server) {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
}

export function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** A unique marker to find this test's objects again. */
export const marker = (label) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
