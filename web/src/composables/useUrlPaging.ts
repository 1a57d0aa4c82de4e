// The page and page size of a server-paged table, kept in the URL (`?page=`, `?per=`) like
// its filters (UX.md: every view is a URL). For the BatchJobs and Transfers tables; the Jobs
// table reads the same parameters through `useJobFilters`.
import { computed } from 'vue'

import { DEFAULT_PAGE_SIZE, PAGE_SIZES } from '@/domain/jobQuery'

import { useQueryParam } from './useQueryParam'

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

  return {
    page,
    perPage,
    refilter,
    setPage: (n: number) => (pageParam.value = String(n)),
    setPerPage: (n: number) => refilter(() => (perParam.value = String(n))),
  }
}
