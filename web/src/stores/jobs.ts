// Jobs keyed by id. Holds far more than any view shows; views select ordered subsets.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listJobs } from '@/api/jobs'
import type { Job, JobQuery } from '@/api/types'

import { useLoadStatus } from './loadStatus'
import { hasKeys, snapshotSeq, useResourceTable } from './resourceTable'

export const useJobsStore = defineStore('jobs', () => {
  const table = useResourceTable<Job>('job', hasKeys('app_id', 'state', 'workdir'))
  const { loading, error, loaded, fetchOnce, resetStatus } = useLoadStatus()

  /** Upserts one page of `GET /jobs/`; never evicts. */
  function load(query: JobQuery = {}) {
    return fetchOnce('/jobs/', query, async () => {
      const page = await listJobs(query)
      table.applyRows(page.results, snapshotSeq(page))
    })
  }

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useJobsStore, import.meta.hot))
