// BatchJobs keyed by id; views get ordered subsets through computed properties.
// Fed by the event stream only until the server's OpenAPI document has this resource's list
// route; then `load(query)` joins, as in sites.ts.
import { acceptHMRUpdate, defineStore } from 'pinia'

import type { BatchJob } from '@/api/types'

import { hasKeys, useResourceTable } from './resourceTable'

export const useBatchJobsStore = defineStore('batchJobs', () => {
  const table = useResourceTable<BatchJob>('batch_job', hasKeys('site_id', 'state', 'num_nodes'))
  return { ...table }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useBatchJobsStore, import.meta.hot))
