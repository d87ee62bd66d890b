import { redirect } from '@sveltejs/kit';
import { resolve } from '$app/paths';
import { auth } from '$lib/auth.svelte';
import type { LayoutLoad } from './$types';

// Every page but login and register needs a session.
export const load: LayoutLoad = ({ url }) => {
  if (!auth.loggedIn) {
    redirect(307, `${resolve('/login')}?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
};
