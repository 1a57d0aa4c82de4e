// The one list of the stores behind the event stream's resource types, and of every store that
// holds one login's data. A new resource type is added to `RESOURCE_TYPES` (realtime/change.ts)
// and here; the type checker points at this file until it is.
import type { Pinia } from 'pinia'

import type { ResourceChange, ResourceType } from '@/realtime/change'

import { useAppsStore } from './apps'
import { useBatchJobsStore } from './batchJobs'
import { useChartsStore } from './charts'
import { useFailuresStore } from './failures'
import { useJobsStore } from './jobs'
import { useLogEventsStore } from './logEvents'
import { useSessionsStore } from './sessions'
import { useSitesStore } from './sites'
import { useStateCountsStore } from './stateCounts'
import { useTransferItemsStore } from './transferItems'

interface ResourceStore {
  apply(change: ResourceChange): unknown
  clear(): void
}

/** Which store owns each resource type: the event stream routes every change through this. */
export const RESOURCE_STORES: Readonly<Record<ResourceType, (pinia?: Pinia) => ResourceStore>> = {
  site: useSitesStore,
  app: useAppsStore,
  batch_job: useBatchJobsStore,
  session: useSessionsStore,
  job: useJobsStore,
  transfer_item: useTransferItemsStore,
  log_event: useLogEventsStore,
}

/** Every store holding one login's data: the resource stores and what is derived from them. */
export const USER_DATA_STORES: readonly ((pinia?: Pinia) => { clear(): void })[] = [
  ...Object.values(RESOURCE_STORES),
  useStateCountsStore,
  useFailuresStore,
  useChartsStore,
]
