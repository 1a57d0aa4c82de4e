// LogEvents keyed by id: immutable rows, removed only by delete events.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { getMemo } from '@/api/getMemo'

import { listLogEvents } from '@/api/events'
import type { LogEvent, LogEventQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, useResourceTable } from './resourceTable'

/** LogEvents held at most; the same eviction as the jobs store's. */
export const LOG_EVENTS_HELD = 20_000

export const useLogEventsStore = defineStore('logEvents', () => {
  const table = useResourceTable<LogEvent>(
    'log_event',
    hasKeys('job_id', 'timestamp', 'to_state'),
    { cap: LOG_EVENTS_HELD, onEvict: () => getMemo.forgetPath('/events/') },
  )
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
