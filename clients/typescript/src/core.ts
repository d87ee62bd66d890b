import { APIConnectionError, APIError, errorFromResponse, type PayLoopsError } from './errors.js';
import { randomUUID } from './runtime.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';
const DEFAULT_TIMEOUT_MS = 80_000;
const DEFAULT_MAX_NETWORK_RETRIES = 2;
const INITIAL_RETRY_DELAY_MS = 500;
const MAX_RETRY_DELAY_MS = 8_000;
const MAX_RETRY_AFTER_MS = 60_000;
export const VERSION = '0.1.0';

/** Options of a client (`PayLoops` or `Dashboard`). */
export interface ClientOptions {
  /** Gateway address; default `PAYLOOPS_BASE_URL` from the environment, else `http://127.0.0.1:8080`. */
  baseUrl?: string;
  /** Per-attempt timeout in milliseconds (default 80 000). */
  timeoutMs?: number;
  /** How many times a failed request is retried (default 2). */
  maxNetworkRetries?: number;
  /** A `fetch` implementation (default the global one). */
  fetch?: typeof fetch;
}

/** Options of one request; they override the client's. */
export interface RequestOptions {
  /** Sent as `Idempotency-Key` on POST; generated when absent and reused across retries. */
  idempotencyKey?: string;
  timeoutMs?: number;
  maxNetworkRetries?: number;
  /** Cancels the request (no retry follows). */
  signal?: AbortSignal;
}

export type Query = Record<string, string | number | boolean | undefined>;

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Query | undefined;
  body?: unknown;
  options?: RequestOptions | undefined;
}

function environmentBaseUrl(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.PAYLOOPS_BASE_URL || undefined;
}

/** Milliseconds to wait before retry number `retry` (1-based): exponential backoff with jitter, or `Retry-After`. */
function retryDelay(retry: number, retryAfter: string | null): number {
  if (retryAfter) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
    if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, MAX_RETRY_AFTER_MS);
  }
  const ceiling = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** (retry - 1), MAX_RETRY_DELAY_MS);
  return ceiling * (0.5 + Math.random() / 2);
}

function shouldRetry(error: PayLoopsError): boolean {
  if (error instanceof APIConnectionError) return true;
  return error.status === 429 || error.status === 503 || (error.status === 409 && error.reason === 'IDEMPOTENCY_KEY_IN_USE');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/**
 * The one request core behind every resource: builds the request, sends it with a timeout,
 * retries what is safe to retry (same idempotency key) and maps error answers to typed errors.
 * Holds the credential header in a private field, out of `toString` and `util.inspect`.
 */
export class Requester {
  readonly baseUrl: string;
  readonly #authHeaders: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #maxNetworkRetries: number;
  readonly #fetch: typeof fetch | undefined;

  constructor(authHeaders: Record<string, string>, options: ClientOptions = {}) {
    this.baseUrl = (options.baseUrl ?? environmentBaseUrl() ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.#authHeaders = authHeaders;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxNetworkRetries = options.maxNetworkRetries ?? DEFAULT_MAX_NETWORK_RETRIES;
    this.#fetch = options.fetch;
  }

  async request<T>({ method, path, query, body, options = {} }: Call): Promise<T> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...this.#authHeaders };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method === 'POST') headers['idempotency-key'] = options.idempotencyKey ?? (await randomUUID());
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
    const maxRetries = options.maxNetworkRetries ?? this.#maxNetworkRetries;

    for (let retry = 0; ; retry++) {
      const outcome = await this.#attempt(url, init, options);
      if (!('error' in outcome)) return outcome.body as T;
      const { error, retryAfter } = outcome;
      if (retry >= maxRetries || options.signal?.aborted || !shouldRetry(error)) throw error;
      await sleep(retryDelay(retry + 1, retryAfter), options.signal);
    }
  }

  /** One attempt: the parsed body on success, else the error (not thrown, so the caller decides on a retry). */
  async #attempt(
    url: URL,
    init: RequestInit,
    options: RequestOptions,
  ): Promise<{ body: unknown } | { error: PayLoopsError; retryAfter: string | null }> {
    const controller = new AbortController();
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const timer = setTimeout(() => { controller.abort(); }, timeoutMs);
    const onAbort = () => { controller.abort(); };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const where = `${init.method ?? 'GET'} ${url.pathname}`;
    try {
      const send = this.#fetch ?? globalThis.fetch;
      const response = await send(url, { ...init, signal: controller.signal });
      const text = await response.text();
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        body = undefined;
      }
      if (response.ok && body !== undefined) return { body };
      const requestId = response.headers.get('x-request-id') ?? undefined;
      const error = response.ok
        ? new APIError(`${where}: the answer is not JSON`, { status: response.status, requestId })
        : errorFromResponse(response.status, body, requestId);
      return { error, retryAfter: response.headers.get('retry-after') };
    } catch (cause) {
      const reason = options.signal?.aborted ? 'aborted' : controller.signal.aborted ? `timed out after ${timeoutMs} ms` : 'network error';
      return { error: new APIConnectionError(`${where}: ${reason}`, { cause }), retryAfter: null };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  toString(): string {
    return `Requester(${this.baseUrl})`;
  }
}
