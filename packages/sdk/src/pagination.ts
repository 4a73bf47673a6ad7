import type { Page } from './types.js';

/** Every item of every page, following `next_cursor` until `has_more` is false. */
export async function* paginate<T>(
  fetchPage: (after: string | undefined) => Promise<Page<T>>,
  after?: string,
) {
  let cursor = after;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.data;
    // A filtered page may be empty yet have more: keep following the cursor.
    if (!page.has_more || !page.next_cursor || page.next_cursor === cursor) return;
    cursor = page.next_cursor;
  }
}
