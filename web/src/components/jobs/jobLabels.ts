// A job's state and tag labels as plain markup: JobStateBadge and JobTags render them, and
// JobTable writes them straight into its rows (a component per cell would cost a component
// instance per row on every page). Colour is never the only signal: the state name is the text.
import './jobLabels.css'

import type { JobState } from '@/api/types'
import { JOB_STATE_GROUPS, stateColor } from '@/domain/jobStates'

/** The classes and hover text of a state label, coloured by its UX.md group. */
export function stateLabel(state: JobState): { class: string; title: string } {
  const group = JOB_STATE_GROUPS[state]
  return {
    class: `job-state job-state--${group} bg-${stateColor(group)}`,
    title: `${state} (${group})`,
  }
}

/** Tags as `[key, value]` pairs in key order (what `balsam job ls --tag key=value` filters by). */
export function tagPairs(tags: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(tags).sort(([a], [b]) => a.localeCompare(b))
}
