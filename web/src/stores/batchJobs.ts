// BatchJobs keyed by id; views get ordered subsets through computed properties. The Balsam API
// keeps no history of a BatchJob's states, so the store notes each state it sees and when it
// saw it change (`seen`), for the BatchJob page's queue history.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { shallowRef, triggerRef } from 'vue'

import { listBatchJobs } from '@/api/batchJobs'
import type { BatchJob, BatchJobQuery } from '@/api/types'
import type { ResourceChange } from '@/realtime/change'

import { useListLoad } from './loadStatus'
import { hasKeys, useResourceTable } from './resourceTable'

/** A state this browser saw a BatchJob in; `at` is when it saw the change (`null`: first seen). */
export interface SeenState {
  state: string
  at: number | null
}

export const useBatchJobsStore = defineStore('batchJobs', () => {
  const table = useResourceTable<BatchJob>('batch_job', hasKeys('site_id', 'state', 'num_nodes'))
  const { loading, error, loaded, load, loadPage, reloadPage, resetStatus } = useListLoad<
    BatchJob,
    BatchJobQuery
  >('/batch-jobs/', listBatchJobs, {
    // Through this store's `apply`, so listed rows count as seen (listings are never complete).
    applyList: (page: { results: readonly BatchJob[]; seq?: number }) =>
      applyRows(page.results, page.seq),
  })

  const seen = shallowRef(new Map<number, SeenState[]>())

  /** Writes through the table, noting each state change it makes to the rows `ids`. */
  function noting<R>(ids: readonly number[], write: () => R): R {
    const before = new Map(ids.map((id) => [id, table.byId.value[id]?.state]))
    const outcome = write()
    let noted = false
    for (const [id, previous] of before) {
      const now = table.byId.value[id]?.state
      if (now === undefined || now === previous) continue
      const list = seen.value.get(id) ?? []
      list.push({ state: now, at: previous === undefined ? null : Date.now() })
      seen.value.set(id, list)
      noted = true
    }
    if (noted) triggerRef(seen)
    return outcome
  }

  function apply(change: ResourceChange) {
    const rows = (Array.isArray(change.data) ? change.data : [change.data]) as { id?: unknown }[]
    const ids = rows.flatMap((row) => (typeof row.id === 'number' ? [row.id] : []))
    return noting(ids, () => table.apply(change))
  }

  function applyRows(rows: readonly BatchJob[], seq?: number) {
    return noting(
      rows.map((row) => row.id),
      () => table.applyRows(rows, seq),
    )
  }

  function clear() {
    table.clear()
    seen.value = new Map()
    resetStatus()
  }

  return {
    ...table,
    apply,
    applyRows,
    seen,
    clear,
    loading,
    error,
    loaded,
    load,
    loadPage,
    reloadPage,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useBatchJobsStore, import.meta.hot))
