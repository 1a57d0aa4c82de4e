// LogEvents keyed by id: immutable rows, removed only by delete events.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listLogEvents } from '@/api/events'
import type { LogEvent, LogEventQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, useResourceTable } from './resourceTable'

export const useLogEventsStore = defineStore('logEvents', () => {
  const table = useResourceTable<LogEvent>('log_event', hasKeys('job_id', 'timestamp', 'to_state'))
  const { loading, error, loaded, load, loadPage, resetStatus } = useListLoad<
    LogEvent,
    LogEventQuery
  >('/events/', listLogEvents, table)

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load, loadPage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useLogEventsStore, import.meta.hot))
