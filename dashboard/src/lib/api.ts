// The one way the dashboard talks to the platform: same-origin relative URLs, the
// dashboard token as a bearer token, an Idempotency-Key on every POST, and AIP-193
// error bodies (google.rpc.Status JSON) turned into ApiError.

import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import { auth } from '$lib/auth.svelte';

export interface FieldViolation {
  field: string;
  description: string;
}

export class ApiError extends Error {
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** The stable upper-snake reason of the google.rpc.ErrorInfo detail, if any. */
  readonly reason: string | undefined;
  /** The field violations of the google.rpc.BadRequest detail, if any. */
  readonly fieldViolations: FieldViolation[];

  constructor(
    message: string,
    status: number,
    reason?: string,
    fieldViolations: FieldViolation[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
    this.fieldViolations = fieldViolations;
  }
}

interface StatusDetail {
  '@type'?: unknown;
  reason?: unknown;
  fieldViolations?: unknown;
}

function typed(detail: StatusDetail, suffix: string): boolean {
  return typeof detail['@type'] === 'string' && detail['@type'].endsWith(suffix);
}

/** An error answer as an ApiError: its google.rpc.Status message when it has one. */
export function errorFromBody(status: number, statusText: string, body: unknown): ApiError {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as {
    message?: unknown;
    details?: unknown;
  };
  const details = (Array.isArray(parsed.details) ? parsed.details : []) as StatusDetail[];
  const info = details.find((d) => typed(d, 'google.rpc.ErrorInfo'));
  const violations = details
    .filter((d) => typed(d, 'google.rpc.BadRequest') && Array.isArray(d.fieldViolations))
    .flatMap((d) => d.fieldViolations as { field?: unknown; description?: unknown }[])
    .map((v) => ({ field: String(v.field ?? ''), description: String(v.description ?? '') }));
  const message =
    typeof parsed.message === 'string' && parsed.message
      ? parsed.message
      : `The server answered ${status}${statusText ? ` ${statusText}` : ''}.`;
  return new ApiError(
    message,
    status,
    typeof info?.reason === 'string' ? info.reason : undefined,
    violations,
  );
}

type Query = Record<string, string | number | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Send the dashboard token (default true); false for register and login. */
  auth?: boolean;
}

function withQuery(path: string, query: Query | undefined): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const encoded = params.toString();
  return encoded ? `${path}?${encoded}` : path;
}

/** A random UUID; crypto.randomUUID exists only in secure contexts (https, localhost). */
function idempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

let leaving: Promise<void> | null = null;

/** Leaves for the login page, coming back here afterwards. A page's requests can be refused
 *  together: only the first leaves, so a later one never makes the login page its `next`. */
export function toLogin(): Promise<void> {
  const login = resolve('/login');
  if (leaving === null && window.location.pathname !== login) {
    const here = window.location.pathname + window.location.search;
    leaving = goto(resolve(`/login?next=${encodeURIComponent(here)}`)).finally(() => {
      leaving = null;
    });
  }
  return leaving ?? Promise.resolve();
}

export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = options.auth === false ? null : auth.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (method === 'POST') headers['Idempotency-Key'] = idempotencyKey();
  let body: string | undefined;
  if (options.body !== undefined || method === 'POST' || method === 'PUT') {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.body ?? {});
  }

  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError('Could not reach PayLoops. Check your connection and try again.', 0);
  }

  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    const error = errorFromBody(response.status, response.statusText, parsed);
    if (response.status === 401 && options.auth !== false) {
      auth.logout();
      void toLogin();
    }
    throw error;
  }
  if (parsed === undefined && text) {
    throw new ApiError('The server sent an answer the dashboard cannot read.', response.status);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, { query }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body }),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, { body }),
  delete: <T>(path: string) => request<T>('DELETE', path),
};

/** Encodes one path segment (an id taken from a URL or an answer). */
export const segment = (id: string): string => encodeURIComponent(id);
