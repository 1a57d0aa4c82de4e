// Named calls on `/api/v1/batch-jobs/`.
import { api, unwrap } from './client'
import type { BatchJobQuery } from './types'

/** One page of `GET /api/v1/batch-jobs/`: `{count, results}`. */
export async function listBatchJobs(query: BatchJobQuery = {}) {
  return unwrap(await api.GET('/batch-jobs/', { params: { query } }))
}
