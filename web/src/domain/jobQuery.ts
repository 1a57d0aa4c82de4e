// The Jobs table's filters: how they read from the URL, become a `GET /jobs/` query, and are
// evaluated on the client so the page on screen follows live events (new matching jobs join
// page 1, jobs that stop matching leave) without repeating the GET (`livePageOf`).
import type { Job, JobQuery, JobState } from '@/api/types'
import type { PageSummary } from '@/domain/livePage'

import { JOB_STATE_GROUPS } from './jobStates'
import { livePageOf, type LivePage } from './livePage'

export const JOB_STATES = Object.keys(JOB_STATE_GROUPS) as JobState[]

export const JOB_ORDERINGS = [
  '-id',
  'id',
  '-last_update',
  'last_update',
  'state',
  '-state',
  'workdir',
  '-workdir',
] as const
export type JobOrdering = (typeof JOB_ORDERINGS)[number]
export const DEFAULT_JOB_ORDERING: JobOrdering = '-id'

export const PAGE_SIZES = [25, 50, 100, 250] as const
export const DEFAULT_PAGE_SIZE = 50

export interface JobFilters {
  siteIds: number[]
  appId: number | null
  /** Ran in this BatchJob. */
  batchJobId: number | null
  states: JobState[]
  /** `key:value` pairs the job's tags must all contain. */
  tags: string[]
  ordering: JobOrdering
  /** 1-based. */
  page: number
  perPage: number
}

/** The raw URL values, as `useQueryParam` / `useQueryList` give them. */
export interface JobFilterParams {
  site: string[]
  app: string
  batch_job: string
  state: string[]
  tag: string[]
  sort: string
  page: string
  per: string
}

function positiveInt(value: string): number | null {
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

/** `key:value` split at the first colon; `null` when there is no key or no colon. */
export function parseTag(tag: string): [string, string] | null {
  const at = tag.indexOf(':')
  if (at <= 0) return null
  return [tag.slice(0, at), tag.slice(at + 1)]
}

/** Reads filters from the URL, dropping values the server would refuse. */
export function parseJobFilters(params: JobFilterParams): JobFilters {
  const perPage = positiveInt(params.per)
  return {
    siteIds: params.site.map(positiveInt).filter((id): id is number => id !== null),
    appId: positiveInt(params.app),
    batchJobId: positiveInt(params.batch_job),
    states: params.state.filter((s): s is JobState => (JOB_STATES as string[]).includes(s)),
    tags: params.tag.filter((tag) => parseTag(tag) !== null),
    ordering: (JOB_ORDERINGS as readonly string[]).includes(params.sort)
      ? (params.sort as JobOrdering)
      : DEFAULT_JOB_ORDERING,
    page: positiveInt(params.page) ?? 1,
    perPage:
      perPage !== null && (PAGE_SIZES as readonly number[]).includes(perPage)
        ? perPage
        : DEFAULT_PAGE_SIZE,
  }
}

/** The filters without paging: what the selection-wide actions and counts apply to. */
export function jobFilterQuery(filters: JobFilters): JobQuery {
  const query: JobQuery = {}
  if (filters.siteIds.length > 0) query.site_id = [...filters.siteIds]
  if (filters.appId !== null) query.app_id = filters.appId
  if (filters.batchJobId !== null) query.batch_job_id = filters.batchJobId
  if (filters.states.length > 0) query.state = [...filters.states]
  if (filters.tags.length > 0) query.tags = [...filters.tags]
  return query
}

/** The `GET /jobs/` query for one page. */
export function jobPageQuery(filters: JobFilters): JobQuery {
  return {
    ...jobFilterQuery(filters),
    ordering: filters.ordering,
    limit: filters.perPage,
    offset: (filters.page - 1) * filters.perPage,
  }
}

/** Whether `job` matches the filters now; `siteOfApp` maps an App id to its Site's. */
export function jobMatches(
  job: Job,
  filters: JobFilters,
  siteOfApp: (appId: number) => number | undefined,
): boolean {
  if (filters.appId !== null && job.app_id !== filters.appId) return false
  if (filters.batchJobId !== null && job.batch_job_id !== filters.batchJobId) return false
  if (filters.states.length > 0 && !filters.states.includes(job.state)) return false
  if (filters.siteIds.length > 0) {
    const site = siteOfApp(job.app_id)
    if (site === undefined || !filters.siteIds.includes(site)) return false
  }
  for (const tag of filters.tags) {
    const pair = parseTag(tag)
    if (pair === null || job.tags[pair[0]] !== pair[1]) return false
  }
  return true
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The server's order: the ordering key, then id ascending. */
export function compareJobs(ordering: JobOrdering): (a: Job, b: Job) => number {
  const descending = ordering.startsWith('-')
  const key = (descending ? ordering.slice(1) : ordering) as
    'id' | 'last_update' | 'state' | 'workdir'
  const sign = descending ? -1 : 1
  return (a, b) => {
    const primary = key === 'id' ? a.id - b.id : compareText(a[key], b[key])
    return primary !== 0 ? sign * primary : a.id - b.id
  }
}

/** The Jobs page as it stands now (see `livePageOf`). */
export function livePage(
  summary: PageSummary,
  byId: Readonly<Record<number, Job | undefined>>,
  known: readonly Job[],
  filters: JobFilters,
  siteOfApp: (appId: number) => number | undefined,
): LivePage<Job> {
  return livePageOf(summary, byId, known, {
    page: filters.page,
    perPage: filters.perPage,
    matches: (job) => jobMatches(job, filters, siteOfApp),
    compare: compareJobs(filters.ordering),
  })
}
