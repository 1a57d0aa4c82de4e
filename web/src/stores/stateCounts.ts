// Per-Site job counts by state (`GET /jobs/state-counts`), kept current while followed.
//
// Events carry jobs, not counts, so the counts are refetched, at most once a second, after
// job events: adjusting them from each job's previous and new state would need every job's
// previous state (the store holds a small subset of the jobs; a bulk update of jobs never
// loaded would be miscounted), and the counts carry no snapshot `seq` that would tell which
// events they already include. One grouped count query converges always and costs little.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { jobStateCounts } from '@/api/jobs'
import { onAppliedChanges } from '@/realtime/appliedChanges'
import type { ResourceChange } from '@/realtime/change'

import { describeError } from './loadStatus'

/** How long after a job event the counts are refetched (events in between share it). */
export const REFRESH_AFTER_EVENTS_MS = 1_000

/** Whether a batch of events can change the counts. */
export function changesCounts(changes: readonly ResourceChange[]): boolean {
  return changes.some(
    (change) =>
      change.type === 'job' ||
      (change.action === 'delete' && (change.type === 'site' || change.type === 'app')),
  )
}

export const useStateCountsStore = defineStore('stateCounts', () => {
  const bySite = shallowRef<ReadonlyMap<number, Readonly<Record<string, number>>>>(new Map())
  const loadedAt = ref<number | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  let inFlight: Promise<void> | null = null
  let again = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let followers = 0
  let unsubscribe: (() => void) | null = null
  let generation = 0

  /** Fetches now; a call during a fetch makes one more fetch follow it. */
  function refresh(): Promise<void> {
    if (inFlight !== null) {
      again = true
      return inFlight
    }
    const mine = generation
    loading.value = true
    inFlight = (async () => {
      try {
        const rows = await jobStateCounts()
        if (mine !== generation) return
        bySite.value = new Map(rows.map((row) => [row.site_id, row.counts]))
        loadedAt.value = Date.now()
        error.value = null
      } catch (failure) {
        if (mine === generation) error.value = describeError(failure)
      } finally {
        loading.value = false
        inFlight = null
        if (again && mine === generation) {
          again = false
          void refresh()
        }
      }
    })()
    return inFlight
  }

  function refreshSoon() {
    if (timer !== undefined) return
    timer = setTimeout(() => {
      timer = undefined
      void refresh()
    }, REFRESH_AFTER_EVENTS_MS)
  }

  /** Keeps the counts current while at least one follower is on; returns its "off". */
  function follow(): () => void {
    followers += 1
    unsubscribe ??= onAppliedChanges((changes) => changesCounts(changes) && refreshSoon())
    let on = true
    return () => {
      if (!on) return
      on = false
      followers -= 1
      if (followers > 0) return
      unsubscribe?.()
      unsubscribe = null
      clearTimeout(timer)
      timer = undefined
    }
  }

  /** Counts per state over every Site. */
  const totals = computed(() => {
    const sums: Record<string, number> = {}
    for (const counts of bySite.value.values()) {
      for (const [state, n] of Object.entries(counts)) sums[state] = (sums[state] ?? 0) + n
    }
    return sums
  })

  function clear() {
    generation += 1
    clearTimeout(timer)
    timer = undefined
    again = false
    bySite.value = new Map()
    loadedAt.value = null
    error.value = null
  }

  return { bySite, totals, loadedAt, error, loading, refresh, refreshSoon, follow, clear }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useStateCountsStore, import.meta.hot))
