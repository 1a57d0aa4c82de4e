// Named calls on `/api/v1/sessions/`.
import { api, unwrap } from './client'
import type { SessionQuery } from './types'

/** One page of `GET /api/v1/sessions/`: `{count, results}`. */
export async function listSessions(query: SessionQuery = {}) {
  return unwrap(await api.GET('/sessions/', { params: { query } }))
}
