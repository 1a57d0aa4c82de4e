// TransferItems keyed by id; views get ordered subsets through computed properties.
// Fed by the event stream only until the server's OpenAPI document has this resource's list
// route; then `load(query)` joins, as in sites.ts.
import { acceptHMRUpdate, defineStore } from 'pinia'

import type { TransferItem } from '@/api/types'

import { hasKeys, useResourceTable } from './resourceTable'

export const useTransferItemsStore = defineStore('transferItems', () => {
  const table = useResourceTable<TransferItem>(
    'transfer_item',
    hasKeys('job_id', 'state', 'direction'),
  )
  return { ...table }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useTransferItemsStore, import.meta.hot))
