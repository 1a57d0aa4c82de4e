// One server page of jobs that follows the event stream (the Jobs page, a BatchJob's jobs):
// loaded through `useServerPage`, recomputed from the jobs store at most a few times a second
// (under thousands of job updates a second, recomputing and re-rendering every frame would
// drop frames), and its rows pinned in the bounded jobs store while they are on screen.
// Until the answer for new filters (another page, order) arrives, the rows on screen stay
// those of the answered filters, in their order: re-sorting the old page by the new order
// would show rows that are not the new page's.
import { computed, shallowRef, watch, type ComputedRef, type Ref } from 'vue'

import type { Job } from '@/api/types'
import { jobPageQuery, livePage, type JobFilters } from '@/domain/jobQuery'
import type { PageSummary } from '@/domain/livePage'
import { useAppsStore } from '@/stores/apps'
import { useJobsStore } from '@/stores/jobs'

import { useCoalesced } from './useCoalesced'
import { usePinnedRows } from './usePinnedRows'
import { useServerPage } from './useServerPage'

export interface LiveJobPage {
  /** The server's answer for the current filters (`null` until the first one). */
  summary: Ref<PageSummary | null>
  /** The page's jobs as they are now, in the server's order. */
  rows: ComputedRef<readonly Job[]>
  /** How many jobs match in all, moved by the jobs that joined or left since the answer. */
  count: ComputedRef<number>
  /** Fetches the page again, even if the GET memo remembers it. */
  reload: () => Promise<void>
  /**
   * Sends the GET for `next` now, before the URL (and so `filters`) changes: the view calls
   * it when the user acts, so the request goes out while the page re-renders and the router
   * navigates, not after (the GET memo shares it with the load that follows the URL).
   */
  prefetch: (next: JobFilters) => void
}

export function useLiveJobPage(
  filters: () => JobFilters,
  options: { onQueryChange?: () => void; alsoLoad?: () => void } = {},
): LiveJobPage {
  const jobs = useJobsStore()
  const apps = useAppsStore()
  const { summary, reload } = useServerPage('/jobs/', jobs, () => jobPageQuery(filters()), options)

  // The filters `summary` answers: set with it (the load that set it was for the filters then).
  const answered = shallowRef<JobFilters | null>(null)
  watch(summary, () => (answered.value = filters()), { flush: 'sync' })

  const jobsVersion = useCoalesced(() => jobs.version)
  const live = computed(() => {
    void jobsVersion.value
    const current = answered.value
    if (summary.value === null || current === null) return null
    const known = current.page === 1 ? jobs.peekAll() : []
    return livePage(summary.value, jobs.peekById(), known, current, (appId) => {
      return apps.byId[appId]?.site_id
    })
  })

  usePinnedRows(jobs, () => [
    ...(summary.value?.ids ?? []),
    ...(live.value?.rows ?? []).map((job) => job.id),
  ])

  return {
    summary,
    rows: computed(() => live.value?.rows ?? []),
    count: computed(() => live.value?.count ?? 0),
    reload,
    prefetch: (next) => void jobs.loadPage(jobPageQuery(next)),
  }
}
