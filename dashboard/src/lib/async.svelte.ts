// Loading and error state for every call the dashboard makes: Resource for reads
// (reloadable), Action for writes (pending flag, last error).

import { untrack } from 'svelte';
import { ApiError } from '$lib/api';

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError(error instanceof Error ? error.message : String(error), 0);
}

export class Resource<T> {
  data = $state<T | undefined>(undefined);
  error = $state<ApiError | undefined>(undefined);
  loading = $state(false);
  #load: (() => Promise<T>) | undefined;
  #generation = 0;

  /** Without a loader here, the first reload(loader) gives it (e.g. from an $effect). */
  constructor(load?: () => Promise<T>) {
    this.#load = load;
  }

  /** Loads (again); an answer to an older call than the latest is dropped. */
  async reload(load?: () => Promise<T>): Promise<void> {
    if (load) this.#load = load;
    const loader = this.#load;
    if (!loader) return;
    const generation = ++this.#generation;
    this.loading = true;
    this.error = undefined;
    try {
      // Whatever the loader reads is not a dependency of the caller's effect.
      const data = await untrack(loader);
      if (generation === this.#generation) this.data = data;
    } catch (error) {
      if (generation === this.#generation) this.error = asApiError(error);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }
}

export class Action {
  pending = $state(false);
  error = $state<ApiError | undefined>(undefined);

  /** Runs fn once at a time; returns its result, or undefined after an error (kept in `error`). */
  async run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    if (this.pending) return undefined;
    this.pending = true;
    this.error = undefined;
    try {
      return await fn();
    } catch (error) {
      this.error = asApiError(error);
      return undefined;
    } finally {
      this.pending = false;
    }
  }

  reset(): void {
    this.error = undefined;
  }
}
