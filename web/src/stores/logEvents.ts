// LogEvents keyed by id: immutable rows, removed only by delete events.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listLogEvents } from '@/api/events'
import type { LogEvent, LogEventQuery } from '@/api/types'

import { useLoadStatus } from './loadStatus'
import { hasKeys, snapshotSeq, useResourceTable } from './resourceTable'

export const useLogEventsStore = defineStore('logEvents', () => {
  const table = useResourceTable<LogEvent>('log_event', hasKeys('job_id', 'timestamp', 'to_state'))
  const { loading, error, loaded, fetchOnce, resetStatus } = useLoadStatus()

  /** Upserts one page of `GET /events/`; never evicts. */
  function load(query: LogEventQuery = {}) {
    return fetchOnce('/events/', query, async () => {
      const page = await listLogEvents(query)
      table.applyRows(page.results, snapshotSeq(page))
    })
  }

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useLogEventsStore, import.meta.hot))
