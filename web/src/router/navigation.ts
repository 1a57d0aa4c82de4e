// The navigation drawer's entries, in order.
import {
  mdiApplicationCogOutline,
  mdiBriefcaseOutline,
  mdiServerNetwork,
  mdiSwapHorizontal,
  mdiTimerSandComplete,
  mdiViewDashboardOutline,
  mdiFormatListChecks,
} from '@mdi/js'

export interface NavEntry {
  title: string
  routeName: string
  icon: string
}

export const NAVIGATION: readonly NavEntry[] = [
  { title: 'Dashboard', routeName: 'dashboard', icon: mdiViewDashboardOutline },
  { title: 'Jobs', routeName: 'jobs', icon: mdiFormatListChecks },
  { title: 'BatchJobs', routeName: 'batch-jobs', icon: mdiBriefcaseOutline },
  { title: 'Transfers', routeName: 'transfers', icon: mdiSwapHorizontal },
  { title: 'Apps', routeName: 'apps', icon: mdiApplicationCogOutline },
  { title: 'Sessions', routeName: 'sessions', icon: mdiTimerSandComplete },
  { title: 'Sites', routeName: 'sites', icon: mdiServerNetwork },
]
