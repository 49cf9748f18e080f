// Owns cursor paging over Qlik list endpoints: follow `links.next.href` exactly as Qlik gives it (cursors cannot
// be computed on the client), stay on the tenant's origin, and stop on a missing/null href or a repeated page.
import type { ListPage } from './schemas.ts';

/** Fetches one page; `resolveNext` turns an href into a URL (and throws if it leaves the tenant). */
export interface PageSource<T> {
  fetchPage(url: URL): Promise<ListPage<T>>;
  resolveNext(href: string, current: URL): URL;
  /** Thrown when a next link points back at a page already read (a server bug that would loop forever). */
  loopError(url: URL): Error;
}

/** The recommended page size: the maximum the Users, Groups and Roles APIs allow. */
export const PAGE_LIMIT = 100;

export async function* pages<T>(first: URL, source: PageSource<T>): AsyncGenerator<ListPage<T>> {
  const seen = new Set<string>();
  let url: URL | undefined = first;
  while (url) {
    if (seen.has(url.href)) throw source.loopError(url);
    seen.add(url.href);
    const page: ListPage<T> = await source.fetchPage(url);
    yield page;
    const href = page.links.next?.href;
    url = href ? source.resolveNext(href, url) : undefined;
  }
}

export async function* items<T>(first: URL, source: PageSource<T>): AsyncGenerator<T> {
  for await (const page of pages(first, source)) yield* page.data;
}

/** Collects an async iterable into an array (for callers that need every match, e.g. email lookups). */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}
