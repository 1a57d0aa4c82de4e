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

export type BatchJobAction = 'cancel' | 'delete'

/**
 * What the Balsam API lets a user do to a BatchJob in `state`: cancel one the scheduler
 * holds (queued or running: `pending_deletion`, the Site runs `qdel`), or delete one the
 * Site has not submitted yet. Nothing else is writable by users: wall time, size, queue and
 * project are fixed at creation (submit a new BatchJob instead).
 */
export function batchJobActions(state: string): BatchJobAction[] {
  if (state === 'queued' || state === 'running') return ['cancel']
  if (state === 'pending_submission') return ['delete']
  return []
}

/** The form for a new BatchJob, as the user fills it in. */
export interface BatchJobForm {
  siteId: number | null
  queue: string
  project: string
  numNodes: number
  wallTimeMin: number
  jobMode: 'serial' | 'mpi'
  /** `key=value` pairs: only jobs carrying every one of these tags run in it. */
  filterTags: string[]
  optionalParams: Record<string, string>
}

/** What a Site allows, as `balsam queue submit` checks it (upstream `BatchJob.validate`). */
export interface SubmitLimits {
  allowedQueues: Readonly<Record<string, { max_nodes: number; max_walltime: number }>>
  allowedProjects: readonly string[]
  optionalParams: Readonly<Record<string, string>>
}

export type BatchJobFormErrors = Partial<
  Record<
    'site' | 'queue' | 'project' | 'numNodes' | 'wallTimeMin' | 'filterTags' | 'optionalParams',
    string
  >
>

/** `key=value` split at the first `=`; `null` without a key. */
export function parseFilterTag(text: string): [string, string] | null {
  const at = text.indexOf('=')
  if (at <= 0) return null
  return [text.slice(0, at).trim(), text.slice(at + 1).trim()]
}

/**
 * Checks the form against the Site's limits the way the CLI does before it creates the
 * BatchJob (the server does not check them; the Site's scheduler would fail the submit).
 */
export function validateBatchJob(
  form: BatchJobForm,
  limits: SubmitLimits | null,
): BatchJobFormErrors {
  const errors: BatchJobFormErrors = {}
  if (form.siteId === null || limits === null) {
    errors.site = 'Choose a Site'
    return errors
  }
  const queues = Object.keys(limits.allowedQueues)
  const queue = limits.allowedQueues[form.queue]
  if (queues.length === 0) {
    errors.queue = 'This Site allows no queue: add one to allowed_queues in its settings.yml'
  } else if (queue === undefined) {
    errors.queue = `Unknown queue ${form.queue || '(none)'} (known: ${queues.join(', ')})`
  }
  if (!Number.isInteger(form.numNodes) || form.numNodes < 1) {
    errors.numNodes = 'At least 1 node'
  } else if (queue !== undefined && form.numNodes > queue.max_nodes) {
    errors.numNodes = `${form.numNodes} exceeds the queue's ${queue.max_nodes} nodes`
  }
  if (!Number.isInteger(form.wallTimeMin) || form.wallTimeMin < 1) {
    errors.wallTimeMin = 'At least 1 minute'
  } else if (queue !== undefined && form.wallTimeMin > queue.max_walltime) {
    errors.wallTimeMin = `${form.wallTimeMin} min exceeds the queue's ${queue.max_walltime} min`
  }
  if (limits.allowedProjects.length === 0) {
    errors.project = 'This Site allows no project: add one to allowed_projects in its settings.yml'
  } else if (!limits.allowedProjects.includes(form.project)) {
    errors.project = `Unknown project ${form.project || '(none)'} (known: ${limits.allowedProjects.join(', ')})`
  }
  const keys = new Set<string>()
  for (const text of form.filterTags) {
    const pair = parseFilterTag(text)
    if (pair === null) {
      errors.filterTags = `Write tags as key=value: ${text}`
      break
    }
    if (keys.has(pair[0])) {
      errors.filterTags = `Tag ${pair[0]} is given twice`
      break
    }
    keys.add(pair[0])
  }
  const extraneous = Object.keys(form.optionalParams).filter(
    (key) => !(key in limits.optionalParams),
  )
  if (extraneous.length > 0) {
    errors.optionalParams = `Not allowed by this Site: ${extraneous.join(', ')}`
  }
  return errors
}

/** The `POST /batch-jobs/` body for a valid form. */
export function batchJobBody(form: BatchJobForm & { siteId: number }) {
  return {
    site_id: form.siteId,
    project: form.project,
    queue: form.queue,
    num_nodes: form.numNodes,
    wall_time_min: form.wallTimeMin,
    job_mode: form.jobMode,
    optional_params: Object.fromEntries(
      Object.entries(form.optionalParams).filter(([, value]) => value !== ''),
    ),
    filter_tags: Object.fromEntries(
      form.filterTags.map(parseFilterTag).filter((pair): pair is [string, string] => pair !== null),
    ),
  }
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}

/** The same submission as a `balsam queue submit` command (run from the Site's directory). */
export function submitCommand(form: BatchJobForm): string {
  const parts = [
    'balsam queue submit',
    `-n ${form.numNodes}`,
    `-t ${form.wallTimeMin}`,
    `-q ${shellWord(form.queue || 'QUEUE')}`,
    `-A ${shellWord(form.project || 'PROJECT')}`,
    `-j ${form.jobMode}`,
    ...form.filterTags.map((tag) => `--tag ${shellWord(tag)}`),
    ...Object.entries(form.optionalParams)
      .filter(([, value]) => value !== '')
      .map(([key, value]) => `-x ${shellWord(`${key}=${value}`)}`),
  ]
  return parts.join(' ')
}

/** A form for `site`'s first queue and project, or a copy of an existing BatchJob. */
export function initialBatchJobForm(
  siteId: number | null,
  limits: SubmitLimits | null,
  from?: BatchJob,
): BatchJobForm {
  if (from !== undefined) {
    return {
      siteId: from.site_id,
      queue: from.queue,
      project: from.project,
      numNodes: from.num_nodes,
      wallTimeMin: from.wall_time_min,
      jobMode: from.job_mode === 'serial' ? 'serial' : 'mpi',
      filterTags: Object.entries(from.filter_tags).map(([k, v]) => `${k}=${v}`),
      optionalParams: { ...from.optional_params },
    }
  }
  const queue = limits ? Object.keys(limits.allowedQueues)[0] : undefined
  return {
    siteId,
    queue: queue ?? '',
    project: limits?.allowedProjects[0] ?? '',
    numNodes: 1,
    wallTimeMin: Math.min(30, (queue && limits?.allowedQueues[queue]?.max_walltime) || 30),
    jobMode: 'mpi',
    filterTags: [],
    optionalParams: {},
  }
}

/** A state a BatchJob was seen in, and when that was noticed (`null`: when first seen). */
export interface SeenStateLike {
  state: string
  at: number | null
}

export interface HistoryStep {
  state: string
  /** Epoch ms, or NaN when unknown. */
  at: number
  /** Where `at` comes from. */
  source: 'start_time' | 'end_time' | 'seen' | null
  reached: boolean
  current: boolean
}

export const BATCH_JOB_STATE_TEXT: Record<string, string> = {
  pending_submission: 'Waiting for the Site to submit it',
  queued: "In the scheduler's queue",
  running: 'Running: launchers take jobs',
  finished: 'Finished: the allocation ended',
  submit_failed: 'The scheduler refused it',
  pending_deletion: 'Cancel requested: waiting for the Site to remove it',
}

/**
 * The path a BatchJob took through the scheduler, as far as anyone can tell: start and end
 * times from the server, other steps timed when this browser saw them change (the Balsam
 * API keeps no state history for BatchJobs).
 */
export function queueHistory(bj: BatchJob, seen: readonly SeenStateLike[]): HistoryStep[] {
  const wasSeen = (state: string) => seen.some((s) => s.state === state)
  let path: string[]
  if (bj.state === 'submit_failed') path = ['pending_submission', 'submit_failed']
  else if (bj.state === 'pending_deletion' || wasSeen('pending_deletion')) {
    path = ['pending_submission', 'queued']
    if (bj.start_time != null || wasSeen('running')) path.push('running')
    path.push('pending_deletion', 'finished')
  } else if (bj.state === 'finished' && bj.start_time == null && !wasSeen('running')) {
    path = ['pending_submission', 'queued', 'finished']
  } else path = ['pending_submission', 'queued', 'running', 'finished']
  const current = path.indexOf(bj.state)
  return path.map((state, index) => {
    let at = Number.NaN
    let source: HistoryStep['source'] = null
    if (state === 'running' && bj.start_time != null) {
      at = parseServerTime(bj.start_time)
      source = 'start_time'
    } else if (state === 'finished' && bj.end_time != null) {
      at = parseServerTime(bj.end_time)
      source = 'end_time'
    } else {
      let when: number | null = null
      for (const s of seen) if (s.state === state && s.at !== null) when = s.at
      if (when !== null) {
        at = when
        source = 'seen'
      }
    }
    return { state, at, source, reached: index <= current, current: index === current }
  })
}

/** Minutes the BatchJob has run (or ran), or `null` before it started. */
export function elapsedMs(bj: BatchJob, now: number): number | null {
  if (bj.start_time == null) return null
  const start = parseServerTime(bj.start_time)
  const end = bj.end_time == null ? now : parseServerTime(bj.end_time)
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, end - start) : null
}
