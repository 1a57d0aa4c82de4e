// A table's ordering in the URL: `?sort=name` or `?sort=-lastRefresh` (descending),
// in the shape Vuetify's data tables bind to.
import { computed, type WritableComputedRef } from 'vue'

import { useQueryParam } from './useQueryParam'

/** Vuetify's sort item; `order` other than `'desc'` sorts ascending. */
export interface SortItem {
  key: string
  order?: boolean | 'asc' | 'desc'
}

export function parseSort(value: string, allowed: readonly string[]): SortItem[] {
  const descending = value.startsWith('-')
  const key = descending ? value.slice(1) : value
  return allowed.includes(key) ? [{ key, order: descending ? 'desc' : 'asc' }] : []
}

export function formatSort(items: readonly SortItem[]): string {
  const first = items[0]
  if (first === undefined) return ''
  return first.order === 'desc' ? `-${first.key}` : first.key
}

export function useSortParam(
  name: string,
  allowed: readonly string[],
): WritableComputedRef<SortItem[]> {
  const param = useQueryParam(name)
  return computed({
    get: () => parseSort(param.value, allowed),
    set: (items) => {
      param.value = formatSort(items)
    },
  })
}
