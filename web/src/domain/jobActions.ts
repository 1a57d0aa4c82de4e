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

/** A job as it stands after an action, or `undefined` when it no longer exists. */
export type JobAfter = Readonly<{ state: string; session_id?: number | null }> | undefined

/**
 * What an action by id did to each job, in one sentence, from the jobs as they stand after
 * it (re-read from the server): the server skips some without an error (a delete skips jobs
 * a launcher holds; a state change the job's state does not allow leaves it as it was), so
 * "n jobs done" would say more than happened.
 */
export function actionOutcome(
  action: JobAction,
  ids: readonly number[],
  after: (id: number) => JobAfter,
): string {
  const spec = JOB_ACTIONS[action]
  const n = ids.length
  const of = (done: number) =>
    done === n ? jobsCount(n) : `${formatCount(done)} of ${jobsCount(n)}`
  if (spec.state === null) {
    let held = 0
    let kept = 0
    for (const id of ids) {
      const job = after(id)
      if (job === undefined) continue
      if (job.session_id != null) held += 1
      else kept += 1
    }
    const deleted = n - held - kept
    const parts = [`${of(deleted)} deleted`]
    if (held > 0)
      parts.push(`${formatCount(held)} held by a launcher ${held === 1 ? 'was' : 'were'} skipped`)
    if (kept > 0) parts.push(`${formatCount(kept)} could not be deleted`)
    return parts.join('; ')
  }
  const target = spec.state
  const unchanged = new Map<string, number>()
  let gone = 0
  let moved = 0
  for (const id of ids) {
    const job = after(id)
    if (job === undefined) gone += 1
    else if (job.state === target) moved += 1
    else unchanged.set(job.state, (unchanged.get(job.state) ?? 0) + 1)
  }
  const parts = [`${spec.label}: ${of(moved)} now ${target}`]
  if (unchanged.size > 0) {
    const skipped = [...unchanged.values()].reduce((sum, k) => sum + k, 0)
    const states = [...unchanged].map(([state, k]) => `${formatCount(k)} ${state}`).join(', ')
    parts.push(
      `${formatCount(skipped)} ${skipped === 1 ? 'was' : 'were'} skipped (${states}: the server does not allow that move)`,
    )
  }
  if (gone > 0) parts.push(`${formatCount(gone)} no longer ${gone === 1 ? 'exists' : 'exist'}`)
  return parts.join('; ')
}

/** Where the jobs an action touches come from, after "n jobs": "selected", "you have"… */
export function selectionScope(allMatching: boolean, filtered: boolean): string {
  return allMatching ? (filtered ? 'matching these filters' : 'you have') : 'selected'
}
