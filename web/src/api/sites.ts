// Named calls on `/api/v1/sites/`.
import { api, unwrapList } from './client'
import type { SiteQuery } from './types'

/** One page of `GET /api/v1/sites/`: `{count, results}` and its snapshot `seq`. */
export async function listSites(query: SiteQuery = {}) {
  return unwrapList(await api.GET('/sites/', { params: { query } }))
}
