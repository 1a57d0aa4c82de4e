// The Jobs table's filters, read from and written to the URL (UX.md: every view is a URL).
import { computed } from 'vue'
import { useRoute, type LocationQuery } from 'vue-router'

import type { JobState } from '@/api/types'
import {
  DEFAULT_JOB_ORDERING,
  DEFAULT_PAGE_SIZE,
  parseJobFilters,
  type JobFilters,
  type JobOrdering,
} from '@/domain/jobQuery'

import { queryList, queryValue, useQueryList, useQueryParam } from './useQueryParam'

/** The filters a Jobs URL's query describes (also read before the view mounts: the router's preload). */
export function jobFiltersOf(query: LocationQuery): JobFilters {
  return parseJobFilters({
    site: queryList(query, 'site'),
    app: queryValue(query, 'app'),
    batch_job: queryValue(query, 'batch_job'),
    state: queryList(query, 'state'),
    tag: queryList(query, 'tag'),
    sort: queryValue(query, 'sort', DEFAULT_JOB_ORDERING),
    page: queryValue(query, 'page', '1'),
    per: queryValue(query, 'per', String(DEFAULT_PAGE_SIZE)),
  })
}

export function useJobFilters() {
  const route = useRoute()
  const site = useQueryList('site')
  const app = useQueryParam('app')
  const batchJob = useQueryParam('batch_job')
  const state = useQueryList('state')
  const tag = useQueryList('tag')
  const sort = useQueryParam('sort', DEFAULT_JOB_ORDERING)
  const page = useQueryParam('page', '1')
  const per = useQueryParam('per', String(DEFAULT_PAGE_SIZE))

  const filters = computed(() => jobFiltersOf(route.query))

  /** Any filter change goes back to page 1. */
  function refilter(write: () => void) {
    write()
    page.value = '1'
  }

  return {
    filters,
    setSites: (ids: number[]) => refilter(() => (site.value = ids.map(String))),
    setApp: (id: number | null) => refilter(() => (app.value = id === null ? '' : String(id))),
    setBatchJob: (id: number | null) =>
      refilter(() => (batchJob.value = id === null ? '' : String(id))),
    setStates: (states: JobState[]) => refilter(() => (state.value = states)),
    setTags: (tags: string[]) => refilter(() => (tag.value = tags)),
    setOrdering: (ordering: JobOrdering) => refilter(() => (sort.value = ordering)),
    setPage: (n: number) => (page.value = String(n)),
    setPerPage: (n: number) => refilter(() => (per.value = String(n))),
    clear: () =>
      refilter(() => {
        site.value = []
        app.value = ''
        batchJob.value = ''
        state.value = []
        tag.value = []
      }),
  }
}
