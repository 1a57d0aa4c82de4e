// Everything the stores hold belongs to one login: forget it all when that login ends, so the
// next user of this tab never sees the previous user's rows.
import type { Pinia } from 'pinia'

import { getMemo } from '@/api/getMemo'

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

export function clearUserData(pinia?: Pinia): void {
  getMemo.clear()
  for (const useStore of [
    useSitesStore,
    useAppsStore,
    useBatchJobsStore,
    useSessionsStore,
    useJobsStore,
    useTransferItemsStore,
    useLogEventsStore,
    useStateCountsStore,
    useFailuresStore,
    useChartsStore,
  ]) {
    useStore(pinia).clear()
  }
}
