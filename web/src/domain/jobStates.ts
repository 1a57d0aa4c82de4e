// Job states grouped as UX.md says: one colour per group, the state name always shown.
import type { JobState } from '@/api/types'

export type StateGroup =
  'waiting' | 'runnable' | 'running' | 'finishing' | 'done' | 'trouble' | 'failed'

export const JOB_STATE_GROUPS: Record<JobState, StateGroup> = {
  CREATED: 'waiting',
  AWAITING_PARENTS: 'waiting',
  READY: 'waiting',
  STAGED_IN: 'waiting',
  PREPROCESSED: 'runnable',
  RESTART_READY: 'runnable',
  RUNNING: 'running',
  RUN_DONE: 'finishing',
  POSTPROCESSED: 'finishing',
  STAGED_OUT: 'finishing',
  JOB_FINISHED: 'done',
  RUN_ERROR: 'trouble',
  RUN_TIMEOUT: 'trouble',
  FAILED: 'failed',
}

/** The group's theme colour name (`state-running`…), defined in plugins/vuetify.ts. */
export function stateColor(group: StateGroup): string {
  return `state-${group}`
}

/** Groups in pipeline order, as the dashboard lists them. */
export const STATE_GROUPS: readonly StateGroup[] = [
  'waiting',
  'runnable',
  'running',
  'finishing',
  'done',
  'trouble',
  'failed',
]

export const STATE_GROUP_LABELS: Record<StateGroup, string> = {
  waiting: 'Waiting',
  runnable: 'Runnable',
  running: 'Running',
  finishing: 'Finishing',
  done: 'Done',
  trouble: 'Trouble',
  failed: 'Failed',
}

/** What each group means to the user (UX.md), for titles and legends. */
export const STATE_GROUP_MEANINGS: Record<StateGroup, string> = {
  waiting: 'not runnable yet, or staging in',
  runnable: 'waiting for a launcher',
  running: 'on compute nodes now',
  finishing: 'ran; post-processing or staging out',
  done: 'finished successfully',
  trouble: 'ran and failed; may be retried',
  failed: 'given up',
}

/** The states of a group, in the table's order. */
export function statesOf(group: StateGroup): JobState[] {
  return (Object.keys(JOB_STATE_GROUPS) as JobState[]).filter(
    (state) => JOB_STATE_GROUPS[state] === group,
  )
}

/** Sums `{STATE: n}` counts by group; unknown state names are ignored. */
export function countsByGroup(
  counts: Readonly<Record<string, number>>,
): Record<StateGroup, number> {
  const sums = Object.fromEntries(STATE_GROUPS.map((g) => [g, 0])) as Record<StateGroup, number>
  for (const [state, n] of Object.entries(counts)) {
    const group = JOB_STATE_GROUPS[state as JobState] as StateGroup | undefined
    if (group !== undefined) sums[group] += n
  }
  return sums
}
