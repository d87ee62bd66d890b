/** Every item of every page: requests the next page (`nextPageToken`) as the caller iterates. */
export async function* autoPaginate<P extends { pageToken?: string }, L extends { nextPageToken?: string }, T>(
  params: P,
  fetchPage: (params: P) => Promise<L>,
  items: (page: L) => T[] | undefined,
): AsyncGenerator<T, void, undefined> {
  let pageToken = params.pageToken;
  do {
    const page = await fetchPage({ ...params, pageToken });
    yield* items(page) ?? [];
    pageToken = page.nextPageToken;
  } while (pageToken);
}
