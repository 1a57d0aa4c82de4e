// The selection → confirm → run flow of one bulk action on jobs (retry/kill/delete, tag
// edits): `ask` counts the jobs exactly (again from the server when every job matching the
// filters is selected) and opens the confirmation, `run` does the work, says what it did and
// clears the selection, or keeps the dialog open with the failure.
import { ref, shallowRef, type Ref } from 'vue'

import { listJobs } from '@/api/jobs'
import type { JobQuery } from '@/api/types'
import { describeError } from '@/stores/loadStatus'

export interface JobSelection {
  /** The selected rows' ids (when not `allMatching`). */
  ids: () => readonly number[]
  /** Every job matching the filters is selected, not only rows of this page. */
  allMatching: () => boolean
  /** The filters, for "every job matching". */
  query: () => JobQuery
  clear: () => void
}

export function useJobBulkAction<T>(selection: JobSelection, notify: (text: string) => void) {
  /** What the open confirmation is for (`null`: closed). */
  const pending: Ref<T | null> = shallowRef(null)
  /** How many jobs it touches, counted when it opened. */
  const count = ref(0)
  const busy = ref(false)
  const error = ref<string | null>(null)

  /** Counts the jobs, runs `prepare` (what the dialog shows besides) and opens the dialog. */
  async function ask(what: T, prepare?: () => void): Promise<void> {
    error.value = null
    if (selection.allMatching()) {
      // The count right now, not as of the page load: the confirmation must be exact.
      try {
        count.value = (await listJobs({ ...selection.query(), limit: 0 })).count
      } catch (failure) {
        notify(describeError(failure))
        return
      }
    } else {
      count.value = selection.ids().length
    }
    prepare?.()
    pending.value = what
  }

  /** Runs the confirmed action; `work` answers what to tell the user. */
  async function run(work: (what: T) => Promise<string>): Promise<void> {
    const what = pending.value
    if (what === null) return
    busy.value = true
    error.value = null
    try {
      notify(await work(what))
      pending.value = null
      selection.clear()
    } catch (failure) {
      error.value = describeError(failure)
    } finally {
      busy.value = false
    }
  }

  function cancel() {
    pending.value = null
  }

  return { pending, count, busy, error, ask, run, cancel }
}
