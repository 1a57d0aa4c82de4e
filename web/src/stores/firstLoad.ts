// The seed's first-load fetches, for the whole app rather than one page: the current user,
// Sites, Apps, Sessions, the last 100 BatchJobs and jobs, and the per-Site state counts (kept
// current from the event stream afterwards, never polled). Each goes through the GET memo.
import { useAppsStore } from './apps'
import { useAuthStore } from './auth'
import { useBatchJobsStore } from './batchJobs'
import { useJobsStore } from './jobs'
import { useSessionsStore } from './sessions'
import { useSitesStore } from './sites'
import { useStateCountsStore } from './stateCounts'

export function loadFirstData(): void {
  void useAuthStore().loadUser()
  void useStateCountsStore().load()
  void useSitesStore().load()
  void useAppsStore().load()
  void useSessionsStore().load()
  void useBatchJobsStore().load({ ordering: '-start_time', limit: 100 })
  void useJobsStore().load({ ordering: '-last_update', limit: 100 })
}
