// Loading/error bookkeeping shared by the resource stores' `load` actions.
import { computed, ref } from 'vue'

import { getMemo, memoKey } from '@/api/getMemo'

import type { PageSummary } from '@/domain/livePage'

import type { Identified } from './resourceTable'

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message
  return 'Something went wrong'
}

/**
 * `fetchOnce(path, query, fetch)` runs a GET through the memo and records its outcome
 * (`fetchRemembered` also hands back the fetch's answer, remembered with it):
 * `error` holds the last failure's message until a load succeeds; `loaded` turns true
 * after the first success. Failures are recorded, not thrown: views show `error`.
 */
export function useLoadStatus() {
  const inFlight = ref(0)
  const error = ref<string | null>(null)
  const loaded = ref(false)
  const loading = computed(() => inFlight.value > 0)

  /** Runs a GET through the memo; its answer, or `null` after recording the failure. */
  async function fetchRemembered<T>(
    path: string,
    query: object,
    fetch: () => Promise<T>,
  ): Promise<T | null> {
    inFlight.value += 1
    try {
      const answer = await getMemo.run(memoKey(path, query), fetch)
      error.value = null
      loaded.value = true
      return answer
    } catch (failure) {
      error.value = describeError(failure)
      return null
    } finally {
      inFlight.value -= 1
    }
  }

  async function fetchOnce(path: string, query: object, fetch: () => Promise<void>) {
    return (await fetchRemembered(path, query, async () => (await fetch(), true))) ?? false
  }

  function resetStatus() {
    error.value = null
    loaded.value = false
  }

  return { loading, error, loaded, fetchOnce, fetchRemembered, resetStatus }
}

interface ListAnswer<T extends Identified> {
  count: number
  results: T[]
  seq?: number
}

interface ListTable<T extends Identified> {
  applyList(page: ListAnswer<T>, complete: boolean): unknown
}

/**
 * `loadPage(query)` / `load(query)` for a resource store: one list GET through the memo, its
 * rows upserted through the table's reducer (with the snapshot `seq`), its page summary
 * answered (and remembered, so a view revisiting a page gets the same ids without a GET).
 * `complete(query)` says when the answer is the whole collection (see `retainListed`).
 */
export function useListLoad<T extends Identified, Q extends object>(
  path: string,
  list: (query: Q) => Promise<ListAnswer<T>>,
  table: ListTable<T>,
  complete: (query: Q) => boolean = () => false,
) {
  const status = useLoadStatus()

  function loadPage(query: Q): Promise<PageSummary | null> {
    return status.fetchRemembered(path, query, async () => {
      const page = await list(query)
      table.applyList(page, complete(query))
      const summary: PageSummary = {
        ids: page.results.map((row) => row.id),
        count: page.count,
        at: Date.now(),
      }
      if (page.seq !== undefined) summary.seq = page.seq
      return summary
    })
  }

  /** `loadPage` that fetches even if remembered (the user asked to reload). */
  function reloadPage(query: Q): Promise<PageSummary | null> {
    getMemo.forget(memoKey(path, query))
    return loadPage(query)
  }

  /** Upserts one page; never evicts. False when it failed (the failure is in `error`). */
  async function load(query: Q = {} as Q): Promise<boolean> {
    return (await loadPage(query)) !== null
  }

  return { ...status, loadPage, reloadPage, load }
}
