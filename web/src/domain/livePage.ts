// A server-paged table that follows the event stream: the answered page's rows that still
// match, in the server's order, and on page 1 every known row that matches and ranks above
// the page's last row (every row changed since the answer came through the stream). When the
// answered page was not full, every matching known row belongs on it.

/** What a list GET answered, remembered with it: the page's ids in server order. */
export interface PageSummary {
  ids: number[]
  /** How many rows match the query in all (the server's `count`). */
  count: number
  /** The snapshot the page was read in (`X-Balsam-Seq`). */
  seq?: number
  /** Epoch ms when the answer arrived. */
  at: number
}

export interface LivePage<T> {
  rows: T[]
  /** The server's count, moved by the rows that joined or left this page since. */
  count: number
  /** Rows of the answered page that no longer match or were deleted. */
  left: number
  /** Known rows that joined page 1 since it was answered. */
  joined: number
}

export interface LivePageSpec<T> {
  /** 1-based. */
  page: number
  perPage: number
  matches: (row: T) => boolean
  /** The server's order. */
  compare: (a: T, b: T) => number
}

export function livePageOf<T extends { id: number }>(
  summary: PageSummary,
  byId: Readonly<Record<number, T | undefined>>,
  known: readonly T[],
  spec: LivePageSpec<T>,
): LivePage<T> {
  const { matches, compare } = spec
  const answered = new Set(summary.ids)
  const rows: T[] = []
  let left = 0
  for (const id of summary.ids) {
    const row = byId[id]
    if (row !== undefined && matches(row)) rows.push(row)
    else left += 1
  }
  let joined = 0
  if (spec.page === 1) {
    const full = summary.ids.length >= spec.perPage
    // The page's boundary: its last row still known (deleted rows have no values to compare).
    let boundary: T | undefined
    for (let i = summary.ids.length - 1; i >= 0 && boundary === undefined; i -= 1) {
      boundary = byId[summary.ids[i] ?? -1]
    }
    for (const row of known) {
      if (answered.has(row.id) || !matches(row)) continue
      if (full && (boundary === undefined || compare(row, boundary) > 0)) continue
      rows.push(row)
      joined += 1
    }
  }
  rows.sort(compare)
  if (rows.length > spec.perPage) rows.length = spec.perPage
  return { rows, count: Math.max(rows.length, summary.count + joined - left), left, joined }
}
