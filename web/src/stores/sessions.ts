// Balsam Sessions (launcher leases) keyed by id; not the browser login, which is auth.ts.
// Fed by the event stream only until the server's OpenAPI document has this resource's list
// route; then `load(query)` joins, as in sites.ts.
import { acceptHMRUpdate, defineStore } from 'pinia'

import type { BalsamSession } from '@/api/types'

import { hasKeys, useResourceTable } from './resourceTable'

export const useSessionsStore = defineStore('sessions', () => {
  const table = useResourceTable<BalsamSession>('session', hasKeys('site_id', 'heartbeat'))
  return { ...table }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSessionsStore, import.meta.hot))
