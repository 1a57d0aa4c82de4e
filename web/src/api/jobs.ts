// Named calls on `/api/v1/jobs/`.
import { api, unwrap, unwrapList } from './client'
import type { JobQuery } from './types'

/** One page of `GET /api/v1/jobs/`: `{count, results}` and its snapshot `seq`. */
export async function listJobs(query: JobQuery = {}) {
  return unwrapList(await api.GET('/jobs/', { params: { query } }))
}

/** `GET /jobs/state-counts`: per Site, how many jobs are in each state. */
export async function jobStateCounts() {
  return unwrap(await api.GET('/jobs/state-counts'))
}
