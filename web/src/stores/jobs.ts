// Jobs keyed by id. Holds far more than any view shows; views select ordered subsets.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listJobs } from '@/api/jobs'
import type { Job, JobQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, useResourceTable } from './resourceTable'

export const useJobsStore = defineStore('jobs', () => {
  const table = useResourceTable<Job>('job', hasKeys('app_id', 'state', 'workdir'))
  const { loading, error, loaded, load, loadPage, reloadPage, resetStatus } = useListLoad<
    Job,
    JobQuery
  >('/jobs/', listJobs, table)

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load, loadPage, reloadPage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useJobsStore, import.meta.hot))
