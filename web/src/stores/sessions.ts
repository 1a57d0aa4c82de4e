// Balsam Sessions (launcher leases) keyed by id; not the browser login, which is auth.ts.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listSessions } from '@/api/sessions'
import type { BalsamSession, SessionQuery } from '@/api/types'

import { useLoadStatus } from './loadStatus'
import { hasKeys, snapshotSeq, useResourceTable } from './resourceTable'

export const useSessionsStore = defineStore('sessions', () => {
  const table = useResourceTable<BalsamSession>('session', hasKeys('site_id', 'heartbeat'))
  const { loading, error, loaded, fetchOnce, resetStatus } = useLoadStatus()

  /** Upserts one page of `GET /sessions/`; never evicts. */
  function load(query: SessionQuery = {}) {
    return fetchOnce('/sessions/', query, async () => {
      const page = await listSessions(query)
      table.applyRows(page.results, snapshotSeq(page))
    })
  }

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSessionsStore, import.meta.hot))
