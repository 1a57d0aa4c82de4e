// Balsam Sessions (launcher leases) keyed by id; not the browser login, which is auth.ts.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listSessions } from '@/api/sessions'
import type { BalsamSession, SessionQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, isUnfiltered, useResourceTable } from './resourceTable'

export const useSessionsStore = defineStore('sessions', () => {
  const table = useResourceTable<BalsamSession>('session', hasKeys('site_id', 'heartbeat'))
  const { loading, error, loaded, load, loadPage, resetStatus } = useListLoad<
    BalsamSession,
    SessionQuery
  >('/sessions/', listSessions, table, isUnfiltered)

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load, loadPage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSessionsStore, import.meta.hot))
