/** A page of a search: which rows (`limit`/`offset`) for a 1-based `page` of `size` rows. */
export interface PageWindow {
  page: number;
  size: number;
  limit: number;
  offset: number;
}

/**
 * The one paging rule of every search: `page` from 1, `size` between 1 and `maxSize` (`defaultSize`
 * when absent). Out-of-range values are clamped, never refused: callers validate user input first.
 */
export function pageWindow(
  request: { page?: number; size?: number },
  bounds: { defaultSize?: number; maxSize?: number } = {},
): PageWindow {
  const maxSize = bounds.maxSize ?? 1000;
  const size = Math.min(Math.max(Math.trunc(request.size ?? bounds.defaultSize ?? 25), 1), maxSize);
  const page = Math.max(Math.trunc(request.page ?? 1), 1);
  return { page, size, limit: size, offset: (page - 1) * size };
}
