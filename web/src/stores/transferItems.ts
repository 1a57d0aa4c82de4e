// TransferItems keyed by id; views get ordered subsets through computed properties.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listTransferItems } from '@/api/transfers'
import type { TransferItem, TransferItemQuery } from '@/api/types'

import { useLoadStatus } from './loadStatus'
import { hasKeys, snapshotSeq, useResourceTable } from './resourceTable'

export const useTransferItemsStore = defineStore('transferItems', () => {
  const table = useResourceTable<TransferItem>(
    'transfer_item',
    hasKeys('job_id', 'state', 'direction'),
  )
  const { loading, error, loaded, fetchOnce, resetStatus } = useLoadStatus()

  /** Upserts one page of `GET /transfers/`; never evicts. */
  function load(query: TransferItemQuery = {}) {
    return fetchOnce('/transfers/', query, async () => {
      const page = await listTransferItems(query)
      table.applyRows(page.results, snapshotSeq(page))
    })
  }

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useTransferItemsStore, import.meta.hot))
