// Named calls on `/api/v1/events/`.
import { api, unwrapList } from './client'
import type { LogEventQuery } from './types'

/** One page of `GET /api/v1/events/`: `{count, results}` and its snapshot `seq`. */
export async function listLogEvents(query: LogEventQuery = {}) {
  return unwrapList(await api.GET('/events/', { params: { query } }))
}
