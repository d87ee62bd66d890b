import { WebhookVerificationError } from './errors.js';
import { webCrypto } from './runtime.js';
import type { WebhookEvent, WebhookEventObjects, WebhookEventType } from './types.js';

const SECRET_PREFIX = 'whsec_';

/** Header values as `fetch` (a `Headers`), Node's `IncomingMessage.headers` or a plain object give them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the `webhook-timestamp` may be from now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The current time in seconds, for tests (default the clock). */
  nowSeconds?: number;
}

function header(headers: WebhookHeaders, name: string): string {
  const value = typeof (headers as Headers).get === 'function'
    ? (headers as Headers).get(name)
    : Object.entries(headers as Record<string, string | string[] | undefined>)
      .find(([key]) => key.toLowerCase() === name)?.[1];
  const found = Array.isArray(value) ? value[0] : value;
  if (!found) throw new WebhookVerificationError(`missing ${name} header`);
  return found;
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i % b.length] ?? 0);
  return difference === 0;
}

/**
 * Verifies a PayLoops webhook delivery (Standard Webhooks) and returns its parsed event.
 * `payload` must be the raw request body, byte for byte; `secret` is the endpoint's `whsec_…` secret.
 * Throws `WebhookVerificationError` for a missing header, a stale or future timestamp, or no matching signature.
 */
async function verify<T = Record<string, unknown>>(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyOptions = {},
): Promise<WebhookEvent<T>> {
  const messageId = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  const seconds = Number(timestamp);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(timestamp) || Math.abs(now - seconds) > (options.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  }
  const key = base64Bytes(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret);
  if (!key?.length) throw new WebhookVerificationError('the webhook secret is not a whsec_ base64 secret');

  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const prefix = new TextEncoder().encode(`${messageId}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const { subtle } = await webCrypto();
  const hmacKey = await subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const expected = new Uint8Array(await subtle.sign('HMAC', hmacKey, signed));

  const matches = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    const candidate = version === 'v1' && value ? base64Bytes(value) : undefined;
    return candidate !== undefined && equalInConstantTime(candidate, expected);
  });
  if (!matches) throw new WebhookVerificationError('no webhook-signature matches the payload');
  try {
    return JSON.parse(new TextDecoder().decode(body)) as WebhookEvent<T>;
  } catch {
    throw new WebhookVerificationError('the webhook payload is not JSON');
  }
}

/**
 * Whether `event` is of `type`; narrows it so that `data.object` is typed (an `Order`, a `Refund`
 * or a `CheckoutSession`): `if (webhooks.isEventType(event, 'checkout.session.completed')) …`.
 */
function isEventType<K extends WebhookEventType>(
  event: WebhookEvent<unknown>,
  type: K,
): event is WebhookEvent<WebhookEventObjects[K]> & { type: K } {
  return event.type === type;
}

export const webhooks = { verify, isEventType } as const;
