// Sites keyed by id; `list` is ordered by name for the views.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed } from 'vue'

import { listSites } from '@/api/sites'
import type { Site, SiteQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, isUnfiltered, useResourceTable } from './resourceTable'

export const useSitesStore = defineStore('sites', () => {
  const table = useResourceTable<Site>('site', hasKeys('name', 'path', 'last_refresh'))
  const { loading, error, loaded, load, loadPage, resetStatus } = useListLoad<Site, SiteQuery>(
    '/sites/',
    listSites,
    table,
    isUnfiltered,
  )

  const list = computed(() =>
    table.all.value.sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id),
  )

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, list, loading, error, loaded, load, loadPage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useSitesStore, import.meta.hot))
