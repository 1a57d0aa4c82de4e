// Named calls on `/api/v1/sites/`.
import { api, unwrap } from './client'
import type { SiteQuery } from './types'

/** One page of `GET /api/v1/api/v1/sites/`: `{count, results}`. */
export async function listSites(query: SiteQuery = {}) {
  return unwrap(await api.GET('/sites/', { params: { query } }))
}
