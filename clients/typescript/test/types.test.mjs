// The published type declarations, as a TypeScript user compiles against them: the checkout
// session, the analytics summary and the webhook event types (no platform needed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const sdk = path.join(root, 'dist', 'esm', 'index.js');

const SOURCE = `
import {
  Dashboard, PayLoops, webhooks, ConflictError,
  type AnalyticsSummary, type CheckoutSession, type CheckoutSessionStatus, type WebhookEventType,
} from ${JSON.stringify(sdk)};

export async function use(client: PayLoops, dashboard: Dashboard, raw: string): Promise<string[]> {
  const session: CheckoutSession = await client.checkout.sessions.create({
    orderId: 'ord_1', successUrl: 'https://shop.example/ok', cancelUrl: 'https://shop.example/cart', expiresInSeconds: 1800,
  });
  const status: CheckoutSessionStatus = (await client.checkout.sessions.expire(session.id)).status;
  const summary: AnalyticsSummary = await dashboard.analytics.summary({ from: new Date(), to: '2026-02-01T00:00:00Z', mode: 'live' });
  const sums: string[] = [summary.totals.volume[0]?.amount ?? '0', summary.byCurrency[0]?.refundedVolume ?? '0'];
  const figures: number[] = [summary.totals.refunds.count, summary.byProcessor[0]?.successRate ?? 0, summary.daily.length];
  const statuses: string[] = summary.byStatus.map((group) => group.status);
  const codes: string[] = summary.failureCodes.map((failure) => failure.code + String(failure.count));
  // @ts-expect-error: int64 sums are decimal strings
  const wrong: number = summary.totals.capturedVolume[0].amount;

  const event = await webhooks.verify(raw, {}, 'whsec_AAAA');
  if (webhooks.isEventType(event, 'checkout.session.completed')) {
    const paid: CheckoutSession = event.data.object;
    statuses.push(paid.orderId);
  }
  const types: WebhookEventType[] = ['checkout.session.completed', 'checkout.session.expired', 'order.succeeded'];
  await dashboard.webhookEndpoints.create({ url: 'https://shop.example/hooks', events: types });
  // @ts-expect-error: not an event type
  await dashboard.webhookEndpoints.create({ url: 'https://shop.example/hooks', events: ['checkout.session.paid'] });
  const error: unknown = undefined;
  if (error instanceof ConflictError) statuses.push(error.metadata.sessionId ?? '');
  return [status, ...sums, ...figures.map(String), ...statuses, ...codes, String(wrong)];
}
`;

test('the declarations type checkout sessions, the analytics summary and the event types', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'payloops-sdk-types-'));
  try {
    writeFileSync(path.join(dir, 'use.ts'), SOURCE);
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module","private":true}\n');
    const compilerOptions = {
      noEmit: true, strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext',
      lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false,
    };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['use.ts'] }));
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, timeout: 120_000 });
    } catch (failure) {
      assert.fail(`tsc rejected the snippet:\n${failure.stdout}${failure.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
