// Named calls on `/api/v1/apps/`.
import { api, unwrapList } from './client'
import type { AppQuery } from './types'

/** One page of `GET /api/v1/apps/`: `{count, results}` and its snapshot `seq`. */
export async function listApps(query: AppQuery = {}) {
  return unwrapList(await api.GET('/apps/', { params: { query } }))
}
