// The page, page size and filters of a server-paged table, kept in the URL (`?page=`, `?per=`,
// `?state=…`; UX.md: every view is a URL); changing a filter goes back to page 1. For the
// BatchJobs and Transfers tables; the Jobs table reads the same parameters through
// `useJobFilters`.
import { computed, type WritableComputedRef } from 'vue'

import { DEFAULT_PAGE_SIZE, PAGE_SIZES } from '@/domain/jobQuery'

import { useQueryList, useQueryParam } from './useQueryParam'

/** The page sizes offered, as `v-data-table-server`'s `items-per-page-options`. */
export const PAGE_SIZE_OPTIONS = PAGE_SIZES.map((n) => ({ value: n, title: String(n) }))

export function useUrlPaging() {
  const pageParam = useQueryParam('page', '1')
  const perParam = useQueryParam('per', String(DEFAULT_PAGE_SIZE))

  /** 1-based; anything unreadable is page 1. */
  const page = computed(() => Math.max(1, Number.parseInt(pageParam.value, 10) || 1))
  /** One of `PAGE_SIZES`, else the default. */
  const perPage = computed(() => {
    const n = Number.parseInt(perParam.value, 10)
    return (PAGE_SIZES as readonly number[]).includes(n) ? n : DEFAULT_PAGE_SIZE
  })

  /** Any filter (or order, or page size) change goes back to page 1. */
  function refilter(write: () => void) {
    write()
    pageParam.value = '1'
  }

  const setPage = (n: number) => (pageParam.value = String(n))
  const setPerPage = (n: number) => refilter(() => (perParam.value = String(n)))

  /** The paging props and events of a `v-data-table-server` (`v-bind="table"`). */
  const table = computed(() => ({
    page: page.value,
    itemsPerPage: perPage.value,
    itemsPerPageOptions: PAGE_SIZE_OPTIONS,
    'onUpdate:page': setPage,
    'onUpdate:itemsPerPage': setPerPage,
  }))

  /** A repeated filter (`?state=a&state=b`): its values `parse` accepts (`null`: dropped). */
  function listFilter<T>(name: string, parse: (raw: string) => T | null): WritableComputedRef<T[]> {
    const param = useQueryList(name)
    return computed({
      get: () =>
        param.value.flatMap((raw) => {
          const value = parse(raw)
          return value === null ? [] : [value]
        }),
      set: (values) => refilter(() => (param.value = values.map(String))),
    })
  }

  /** A single-valued filter (`?site=1`); `null` when absent or not accepted by `parse`. */
  function valueFilter<T>(name: string, parse: (raw: string) => T | null) {
    const param = useQueryParam(name)
    return computed<T | null>({
      get: () => (param.value === '' ? null : parse(param.value)),
      set: (value) => refilter(() => (param.value = value === null ? '' : String(value))),
    })
  }

  return { page, perPage, refilter, setPage, setPerPage, table, listFilter, valueFilter }
}
