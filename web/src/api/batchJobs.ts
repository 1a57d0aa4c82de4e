// Named calls on `/api/v1/batch-jobs/`.
import { api, unwrapList } from './client'
import type { BatchJobQuery } from './types'

/** One page of `GET /api/v1/batch-jobs/`: `{count, results}` and its snapshot `seq`. */
export async function listBatchJobs(query: BatchJobQuery = {}) {
  return unwrapList(await api.GET('/batch-jobs/', { params: { query } }))
}
