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
