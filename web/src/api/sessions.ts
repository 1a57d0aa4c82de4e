// Named calls on `/api/v1/sessions/`.
import { api, unwrapList } from './client'
import type { SessionQuery } from './types'

/** One page of `GET /api/v1/sessions/`: `{count, results}` and its snapshot `seq`. */
export async function listSessions(query: SessionQuery = {}) {
  return unwrapList(await api.GET('/sessions/', { params: { query } }))
}
