// Repetition note: the resource stores share one shape on purpose (a table reducer, a load status, the same load/clear calls); the shared parts are resourceTable.ts and loadStatus.ts.
// Jobs keyed by id. Holds far more than any view shows; views select ordered subsets.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { getMemo } from '@/api/getMemo'

import { listJobs } from '@/api/jobs'
import type { Job, JobQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, useResourceTable } from './resourceTable'

/**
 * Jobs held at most (about 1 kB each): past it, the least recently written jobs no view
 * shows are evicted, and the GETs that answered them forgotten so a view fetches them again.
 */
export const JOBS_HELD = 20_000

export const useJobsStore = defineStore('jobs', () => {
  const table = useResourceTable<Job>('job', hasKeys('app_id', 'state', 'workdir'), {
    cap: JOBS_HELD,
    onEvict: () => getMemo.forgetPath('/jobs/'),
  })
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
