// LogEvents keyed by id: immutable rows, removed only by delete events.
// Fed by the event stream only until the server's OpenAPI document has this resource's list
// route; then `load(query)` joins, as in sites.ts.
import { acceptHMRUpdate, defineStore } from 'pinia'

import type { LogEvent } from '@/api/types'

import { hasKeys, useResourceTable } from './resourceTable'

export const useLogEventsStore = defineStore('logEvents', () => {
  const table = useResourceTable<LogEvent>('log_event', hasKeys('job_id', 'timestamp', 'to_state'))
  return { ...table }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useLogEventsStore, import.meta.hot))
