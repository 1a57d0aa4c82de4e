// Named calls on `/api/v1/batch-jobs/`.
import { api, ensureOk, unwrap, unwrapList } from './client'
import type { components } from './schema'
import type { BatchJobQuery } from './types'

export type BatchJobCreate = components['schemas']['BatchJobCreate']

/** One page of `GET /api/v1/batch-jobs/`: `{count, results}` and its snapshot `seq`. */
export async function listBatchJobs(query: BatchJobQuery = {}) {
  return unwrapList(await api.GET('/batch-jobs/', { params: { query } }))
}

/** `POST /batch-jobs/`: a new BatchJob in `pending_submission`, for the Site to submit. */
export async function createBatchJob(body: BatchJobCreate) {
  return unwrap(await api.POST('/batch-jobs/', { body }))
}

/**
 * Asks the Site to take a queued or running BatchJob out of the scheduler
 * (`PUT /batch-jobs/{id}` with `state: pending_deletion`; the Site's scheduler service
 * runs `qdel` and marks it `finished`).
 */
export async function cancelBatchJob(id: number) {
  return unwrap(
    await api.PUT('/batch-jobs/{batch_job_id}', {
      params: { path: { batch_job_id: id } },
      body: { state: 'pending_deletion' },
    }),
  )
}

/** `DELETE /batch-jobs/{id}`: only sensible before the Site submitted it. */
export async function deleteBatchJob(id: number): Promise<void> {
  ensureOk(
    await api.DELETE('/batch-jobs/{batch_job_id}', {
      params: { path: { batch_job_id: id } },
      parseAs: 'text',
    }),
  )
}
