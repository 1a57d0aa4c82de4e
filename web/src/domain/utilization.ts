// Nodes in use over time, the way upstream's `balsam.analytics.utilization_report` reads it:
// a job occupies `num_nodes / node_packing_count` nodes from a LogEvent into RUNNING until
// the next one out of RUNNING. Next to it, the nodes the scheduler granted: every BatchJob's
// `num_nodes` between its `start_time` and `end_time` (still running: until now).
import type { BatchJob, Job, LogEvent } from '@/api/types'
import { parseServerTime } from '@/format/time'

/** One step of a step function: from `t` (epoch ms) on, the value is `value`. */
export interface Step {
  t: number
  value: number
}

interface Delta {
  t: number
  delta: number
}

/** The step function of the running sum of `deltas`, clipped to [from, to]. */
export function stepsOf(deltas: readonly Delta[], from: number, to: number): Step[] {
  const sorted = [...deltas].sort((a, b) => a.t - b.t)
  let level = 0
  let i = 0
  for (; i < sorted.length && sorted[i]!.t <= from; i += 1) level += sorted[i]!.delta
  const steps: Step[] = [{ t: from, value: round(level) }]
  for (; i < sorted.length && sorted[i]!.t <= to; i += 1) {
    const { t, delta } = sorted[i]!
    level += delta
    const last = steps.at(-1)!
    if (last.t === t) last.value = round(level)
    else steps.push({ t, value: round(level) })
  }
  steps.push({ t: to, value: steps.at(-1)!.value })
  return steps
}

/** Float sums of fractional node counts (packed jobs) drift: keep 3 decimals. */
function round(value: number): number {
  return Math.round(value * 1000) / 1000
}

/** Nodes granted to BatchJobs over [from, to]. */
export function allocatedNodes(
  batchJobs: Iterable<Pick<BatchJob, 'num_nodes' | 'start_time' | 'end_time' | 'state'>>,
  from: number,
  to: number,
): Step[] {
  const deltas: Delta[] = []
  for (const bj of batchJobs) {
    if (bj.start_time == null) continue
    const start = parseServerTime(bj.start_time)
    if (!Number.isFinite(start)) continue
    const end = bj.end_time == null ? Number.NaN : parseServerTime(bj.end_time)
    // Started but never ended: still running, unless the Site says it finished without a time.
    if (!Number.isFinite(end) && bj.state !== 'running' && bj.state !== 'pending_deletion') continue
    if (Number.isFinite(end) && end <= from) continue
    deltas.push({ t: start, delta: bj.num_nodes })
    if (Number.isFinite(end)) deltas.push({ t: end, delta: -bj.num_nodes })
  }
  return stepsOf(deltas, from, to)
}

export type JobWeight = Pick<Job, 'num_nodes' | 'node_packing_count'>

/** The nodes one running job occupies (upstream's node weighting). */
export function jobNodes(job: JobWeight | undefined): number {
  if (job === undefined) return 1
  return job.num_nodes / Math.max(1, job.node_packing_count)
}

export interface BusyNodes {
  steps: Step[]
  /** Jobs whose size was unknown (counted as 1 node). */
  unknownJobs: number
}

/**
 * Nodes busy running jobs over [from, to], from the LogEvents into and out of RUNNING in the
 * window. A job that left RUNNING with no entry in the window ran from `from`; one that
 * entered and never left runs until `to`; `runningNow` (ids of jobs RUNNING at `to` with no
 * event in the window) ran throughout.
 */
export function busyNodes(
  events: Iterable<Pick<LogEvent, 'job_id' | 'timestamp' | 'from_state' | 'to_state' | 'id'>>,
  jobOf: (id: number) => JobWeight | undefined,
  from: number,
  to: number,
  runningNow: Iterable<number> = [],
): BusyNodes {
  const byJob = new Map<number, { t: number; id: number; into: boolean }[]>()
  for (const event of events) {
    const into = event.to_state === 'RUNNING'
    const outOf = event.from_state === 'RUNNING'
    if (into === outOf) continue
    // Events after `to` still count: they say the job was not running yet (or still ran)
    // at `to`; `stepsOf` clips their steps. Dropping them would make a job that started
    // after the clock's last tick look like one running since the window's start.
    const t = parseServerTime(event.timestamp)
    if (!Number.isFinite(t)) continue
    let list = byJob.get(event.job_id)
    if (list === undefined) byJob.set(event.job_id, (list = []))
    list.push({ t, id: event.id, into })
  }
  const deltas: Delta[] = []
  let unknownJobs = 0
  const weigh = (jobId: number) => {
    const job = jobOf(jobId)
    if (job === undefined) unknownJobs += 1
    return jobNodes(job)
  }
  for (const [jobId, list] of byJob) {
    list.sort((a, b) => a.t - b.t || a.id - b.id)
    const nodes = weigh(jobId)
    let since: number | null = null
    for (const { t, into } of list) {
      if (into) {
        since ??= t
      } else {
        const start = since ?? from
        if (t > from) deltas.push({ t: Math.max(start, from), delta: nodes }, { t, delta: -nodes })
        since = null
      }
    }
    if (since !== null) deltas.push({ t: Math.max(since, from), delta: nodes })
  }
  for (const jobId of runningNow) {
    if (byJob.has(jobId)) continue
    deltas.push({ t: from, delta: weigh(jobId) })
  }
  return { steps: stepsOf(deltas, from, to), unknownJobs }
}

/** The time-weighted mean of a step function over its span. */
export function meanOf(steps: readonly Step[]): number {
  if (steps.length < 2) return steps[0]?.value ?? 0
  const span = steps.at(-1)!.t - steps[0]!.t
  if (span <= 0) return steps.at(-1)!.value
  let area = 0
  for (let i = 0; i + 1 < steps.length; i += 1) {
    area += steps[i]!.value * (steps[i + 1]!.t - steps[i]!.t)
  }
  return area / span
}

/** The value at the end of the span. */
export function lastOf(steps: readonly Step[]): number {
  return steps.at(-1)?.value ?? 0
}

/**
 * Busy node-time as a share of allocated node-time, or `null` with none allocated. Not
 * clamped: above 1 means more nodes were busy than this view knows to be allocated.
 */
export function utilisation(busy: readonly Step[], allocated: readonly Step[]): number | null {
  const granted = meanOf(allocated)
  if (granted <= 0) return null
  return meanOf(busy) / granted
}

/** The share in words: "(42 % used)", or why there is none to give. */
export function utilisationWords(share: number | null): string {
  if (share === null) return ''
  if (share > 1.005) {
    return ' (more nodes busy than allocated: some of their BatchJobs are not known here)'
  }
  return ` (${Math.round(share * 100)} % used)`
}
