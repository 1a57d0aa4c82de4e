// Named calls on `/api/v1/events/`.
import { api, unwrap } from './client'
import type { LogEventQuery } from './types'

/** One page of `GET /api/v1/events/`: `{count, results}`. */
export async function listLogEvents(query: LogEventQuery = {}) {
  return unwrap(await api.GET('/events/', { params: { query } }))
}
