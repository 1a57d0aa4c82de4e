// Apps keyed by id; `bySite` groups them (ordered by name) for the Apps view.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed } from 'vue'

import { listApps } from '@/api/apps'
import type { App, AppQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, isUnfiltered, useResourceTable } from './resourceTable'

export const useAppsStore = defineStore('apps', () => {
  const table = useResourceTable<App>('app', hasKeys('site_id', 'name', 'parameters', 'transfers'))
  const { loading, error, loaded, load, loadPage, resetStatus } = useListLoad<App, AppQuery>(
    '/apps/',
    listApps,
    table,
    isUnfiltered,
  )

  const bySite = computed(() => {
    const groups = new Map<number, App[]>()
    for (const app of table.all.value) {
      const group = groups.get(app.site_id)
      if (group) group.push(app)
      else groups.set(app.site_id, [app])
    }
    for (const group of groups.values()) {
      group.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id)
    }
    return groups
  })

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, bySite, loading, error, loaded, load, loadPage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useAppsStore, import.meta.hot))
