// BatchJobs keyed by id; views get ordered subsets through computed properties.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listBatchJobs } from '@/api/batchJobs'
import type { BatchJob, BatchJobQuery } from '@/api/types'

import { useLoadStatus } from './loadStatus'
import { hasKeys, snapshotSeq, useResourceTable } from './resourceTable'

export const useBatchJobsStore = defineStore('batchJobs', () => {
  const table = useResourceTable<BatchJob>('batch_job', hasKeys('site_id', 'state', 'num_nodes'))
  const { loading, error, loaded, fetchOnce, resetStatus } = useLoadStatus()

  /** Upserts one page of `GET /batch-jobs/`; never evicts. */
  function load(query: BatchJobQuery = {}) {
    return fetchOnce('/batch-jobs/', query, async () => {
      const page = await listBatchJobs(query)
      table.applyRows(page.results, snapshotSeq(page))
    })
  }

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useBatchJobsStore, import.meta.hot))
