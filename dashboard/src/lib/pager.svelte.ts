// Filters and page of a paginated list, kept in the page's URL (so back, reload and a
// shared link keep them): `pageToken` plus the list's own filters. Going back a page
// uses the tokens seen in this visit.

import { goto } from '$app/navigation';
import { page } from '$app/state';

export class UrlPager {
  /** Tokens of the pages before the current one, in this visit. */
  #previous = $state<string[]>([]);

  get token(): string {
    return page.url.searchParams.get('pageToken') ?? '';
  }

  get hasPrevious(): boolean {
    return this.token !== '';
  }

  filter(name: string): string {
    return page.url.searchParams.get(name) ?? '';
  }

  /** Changes a filter and starts again from the first page. */
  setFilter(name: string, value: string): void {
    this.#previous = [];
    this.#go({ [name]: value, pageToken: '' });
  }

  next(token: string): void {
    this.#previous = [...this.#previous, this.token];
    this.#go({ pageToken: token });
  }

  back(): void {
    const token = this.#previous.at(-1) ?? '';
    this.#previous = this.#previous.slice(0, -1);
    this.#go({ pageToken: token });
  }

  #go(changes: Record<string, string>): void {
    const wanted = { ...Object.fromEntries(page.url.searchParams), ...changes };
    const query = Object.entries(wanted)
      .filter(([, value]) => value)
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
      .join('&');
    // The same page with other query parameters: the path is already resolved.
    // eslint-disable-next-line svelte/no-navigation-without-resolve
    void goto(`${page.url.pathname}${query ? `?${query}` : ''}`, {
      keepFocus: true,
      noScroll: true,
    });
  }
}
