// Jobs keyed by id. Holds far more than any view shows; views select ordered subsets.
// Fed by the event stream only until the server's OpenAPI document has this resource's list
// route; then `load(query)` joins, as in sites.ts.
import { acceptHMRUpdate, defineStore } from 'pinia'

import type { Job } from '@/api/types'

import { hasKeys, useResourceTable } from './resourceTable'

export const useJobsStore = defineStore('jobs', () => {
  const table = useResourceTable<Job>('job', hasKeys('app_id', 'state', 'workdir'))
  return { ...table }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useJobsStore, import.meta.hot))
