// Named calls on `/api/v1/apps/`.
import { api, unwrap } from './client'
import type { AppQuery } from './types'

/** One page of `GET /api/v1/api/v1/apps/`: `{count, results}`. */
export async function listApps(query: AppQuery = {}) {
  return unwrap(await api.GET('/apps/', { params: { query } }))
}
