// Jobs that failed while this page was open: every LogEvent into RUN_ERROR, RUN_TIMEOUT or
// FAILED that the stream applies. The shell shows a banner and counts them in the tab's
// title ("(3 failed) Balsam"), until the user dismisses them.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { ERROR_STATES } from '@/domain/jobHistory'
import type { ResourceChange } from '@/realtime/change'

/** The jobs that failed in a batch of changes (each job once, in order). */
export function failedJobIds(changes: readonly ResourceChange[]): number[] {
  const ids: number[] = []
  for (const change of changes) {
    if (change.type !== 'log_event') continue
    if (change.action !== 'create' && change.action !== 'bulk-create') continue
    const rows = Array.isArray(change.data) ? (change.data as unknown[]) : [change.data]
    for (const row of rows) {
      if (typeof row !== 'object' || row === null) continue
      const { job_id: jobId, to_state: to, from_state: from } = row as Record<string, unknown>
      if (
        typeof jobId === 'number' &&
        typeof to === 'string' &&
        to !== from &&
        ERROR_STATES.includes(to)
      ) {
        ids.push(jobId)
      }
    }
  }
  return ids
}

export const useFailuresStore = defineStore('failures', () => {
  /** Job ids that failed since the last dismissal, each once. */
  const jobIds = ref<ReadonlySet<number>>(new Set())
  const count = computed(() => jobIds.value.size)

  function note(changes: readonly ResourceChange[]) {
    const ids = failedJobIds(changes)
    if (ids.length === 0) return
    const next = new Set(jobIds.value)
    for (const id of ids) next.add(id)
    jobIds.value = next
  }

  function dismiss() {
    jobIds.value = new Set()
  }

  return { jobIds, count, note, dismiss, clear: dismiss }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useFailuresStore, import.meta.hot))
