// What the Jobs table's actions do, said plainly for their confirmation (UX.md 4: how many
// jobs an action touches, before it runs).
import type { JobState } from '@/api/types'
import { formatCount } from '@/format/time'

export type JobAction = 'retry' | 'kill' | 'delete'

export interface JobActionSpec {
  label: string
  /** The state it writes; `null` for delete. */
  state: JobState | null
  color: string
  /** What happens to the jobs, after "n jobs". */
  effect: string
  /** States in which the action is the usual thing to do. */
  usualFrom: readonly JobState[]
}

export const JOB_ACTIONS: Record<JobAction, JobActionSpec> = {
  retry: {
    label: 'Retry',
    state: 'RESTART_READY',
    color: 'primary',
    effect: 'move to RESTART_READY, so the next launcher runs them again',
    usualFrom: ['RUN_ERROR', 'RUN_TIMEOUT', 'FAILED'],
  },
  kill: {
    label: 'Kill',
    state: 'FAILED',
    color: 'warning',
    effect: 'are marked FAILED (given up): no launcher will run them again',
    usualFrom: [
      'CREATED',
      'AWAITING_PARENTS',
      'READY',
      'STAGED_IN',
      'PREPROCESSED',
      'RESTART_READY',
      'RUNNING',
      'RUN_ERROR',
      'RUN_TIMEOUT',
    ],
  },
  delete: {
    label: 'Delete',
    state: null,
    color: 'error',
    effect:
      'are deleted with their transfers and history; jobs a launcher holds are skipped. This cannot be undone',
    usualFrom: [],
  },
}

/** `12 jobs`, `1 job`. */
export function jobsCount(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'job' : 'jobs'}`
}

/**
 * Notes for the confirmation: how many of the known selected jobs are in a state where the
 * action is unusual (retrying a finished job, killing a finished one).
 */
export function actionNotes(action: JobAction, states: readonly JobState[]): string[] {
  const spec = JOB_ACTIONS[action]
  if (spec.usualFrom.length === 0) return []
  const unusual = new Map<JobState, number>()
  for (const state of states) {
    if (!spec.usualFrom.includes(state)) unusual.set(state, (unusual.get(state) ?? 0) + 1)
  }
  return [...unusual].map(([state, n]) => `${jobsCount(n)} ${n === 1 ? 'is' : 'are'} ${state} now.`)
}
