import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import { auth } from '$lib/auth.svelte';
import type { AuthResponse } from '$lib/types';

/** Starts the session and goes to `next` (a dashboard path only), else the orders. */
export async function startSession(answer: AuthResponse, next: string | null): Promise<void> {
  auth.login(answer.token, answer.expiresAt);
  const home = resolve('/orders');
  const root = resolve('/').replace(/\/$/, '');
  const inside = next && next.startsWith(`${root}/`) && !next.startsWith('//');
  // `next` is a path of this app (checked above), already resolved.
  // eslint-disable-next-line svelte/no-navigation-without-resolve
  await goto(inside ? next : home, { replaceState: true });
}
