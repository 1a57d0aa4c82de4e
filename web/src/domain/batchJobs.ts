// BatchJobs as the BatchJobs table filters and orders them (server order: start_time, with
// not-started ones first when descending, then id).
import type { BatchJob } from '@/api/types'
import { parseServerTime } from '@/format/time'

export const BATCH_JOB_STATES = [
  'pending_submission',
  'queued',
  'running',
  'finished',
  'submit_failed',
  'pending_deletion',
] as const

export const BATCH_JOB_ORDERINGS = ['-start_time', 'start_time'] as const
export type BatchJobOrdering = (typeof BATCH_JOB_ORDERINGS)[number]

export interface BatchJobFilters {
  siteIds: number[]
  states: string[]
}

export function batchJobMatches(bj: BatchJob, filters: BatchJobFilters): boolean {
  if (filters.siteIds.length > 0 && !filters.siteIds.includes(bj.site_id)) return false
  if (filters.states.length > 0 && !filters.states.includes(bj.state)) return false
  return true
}

function startMs(bj: BatchJob): number | null {
  if (bj.start_time == null) return null
  const ms = parseServerTime(bj.start_time)
  return Number.isFinite(ms) ? ms : null
}

/** `start_time ASC NULLS LAST` or `start_time DESC NULLS FIRST`, then id ascending. */
export function compareBatchJobs(ordering: BatchJobOrdering): (a: BatchJob, b: BatchJob) => number {
  const descending = ordering === '-start_time'
  return (a, b) => {
    const x = startMs(a)
    const y = startMs(b)
    let primary = 0
    if (x === null && y !== null) primary = descending ? -1 : 1
    else if (x !== null && y === null) primary = descending ? 1 : -1
    else if (x !== null && y !== null) primary = descending ? y - x : x - y
    return primary !== 0 ? primary : a.id - b.id
  }
}
