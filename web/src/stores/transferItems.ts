// Repetition note: the resource stores share one shape on purpose (a table reducer, a load status, the same load/clear calls); the shared parts are resourceTable.ts and loadStatus.ts.
// TransferItems keyed by id; views get ordered subsets through computed properties.
import { acceptHMRUpdate, defineStore } from 'pinia'

import { listTransferItems } from '@/api/transfers'
import type { TransferItem, TransferItemQuery } from '@/api/types'

import { useListLoad } from './loadStatus'
import { hasKeys, useResourceTable } from './resourceTable'

export const useTransferItemsStore = defineStore('transferItems', () => {
  const table = useResourceTable<TransferItem>(
    'transfer_item',
    hasKeys('job_id', 'state', 'direction'),
  )
  const { loading, error, loaded, load, loadPage, reloadPage, resetStatus } = useListLoad<
    TransferItem,
    TransferItemQuery
  >('/transfers/', listTransferItems, table)

  function clear() {
    table.clear()
    resetStatus()
  }

  return { ...table, clear, loading, error, loaded, load, loadPage, reloadPage }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useTransferItemsStore, import.meta.hot))
