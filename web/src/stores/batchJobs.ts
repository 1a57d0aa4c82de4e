// BatchJobs keyed by id; views get ordered subsets through computed properties.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listBatchJobs } from '@/api/batchJobs'
import type { BatchJob, BatchJobQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, useResourceTable } from './resourceTable'

export const useBatchJobsStore = defineStore('batchJobs', () => {
  const table = useResourceTable<BatchJob>('batch_job', hasKeys('site_id', 'state', 'num_nodes'))
  const { loading, error, loaded, load, loadPage, reloadPage, resetStatus } = useListLoad<
    BatchJob,
    BatchJobQuery
  >('/batch-jobs/', listBatchJobs, table)

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load, loadPage, reloadPage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useBatchJobsStore, import.meta.hot))
