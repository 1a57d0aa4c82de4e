// A BatchJob's timeline: the latest state changes (LogEvents) of its jobs, fetched once per
// load, and those of its jobs arriving live since, newest first. The events shown stay pinned
// in the (bounded) LogEvents store while the page is open.
import { computed, ref } from 'vue'

import type { PageSummary } from '@/domain/livePage'
import { parseServerTime } from '@/format/time'
import { useJobsStore } from '@/stores/jobs'
import { useLogEventsStore } from '@/stores/logEvents'

import { usePinnedRows } from './usePinnedRows'

/** LogEvents fetched for the timeline (the latest ones); later ones arrive live. */
export const TIMELINE_FETCHED = 1_000

export function useBatchJobTimeline(batchJobId: () => number) {
  const logEvents = useLogEventsStore()
  const jobs = useJobsStore()
  /** The fetched page (`null` while loading). */
  const page = ref<PageSummary | null>(null)
  const failed = ref<string | null>(null)

  function load() {
    const id = batchJobId()
    void logEvents
      .loadPage({ batch_job_id: id, ordering: '-timestamp', limit: TIMELINE_FETCHED })
      .then((answer) => {
        if (batchJobId() !== id) return
        page.value = answer
        failed.value = answer === null ? logEvents.error : null
      })
  }

  usePinnedRows(logEvents, () => page.value?.ids ?? [])

  const events = computed(() => {
    const fetched = new Set(page.value?.ids ?? [])
    const id = batchJobId()
    return logEvents.all
      .filter((event) => fetched.has(event.id) || jobs.byId[event.job_id]?.batch_job_id === id)
      .map((event) => ({ ...event, at: parseServerTime(event.timestamp) }))
      .sort((a, b) => b.at - a.at || b.id - a.id)
  })
  const truncated = computed(() => page.value !== null && page.value.count > page.value.ids.length)

  return { page, failed, events, truncated, load }
}

export type TimelineEvent = ReturnType<typeof useBatchJobTimeline>['events']['value'][number]
