// Repetition note: each API call is one typed request with its own path and query; they look alike on purpose.
// Named calls on `/api/v1/jobs/`.
import { api, ensureOk, responseSeq, unwrap, unwrapList } from './client'
import type { JobQuery, JobState } from './types'

/** The server's cap on jobs touched by one bulk PATCH. */
export const MAX_JOBS_PER_PATCH = 5_000
/** Ids per `DELETE /jobs/?id=…`, keeping the URL well under common 8 KiB limits. */
export const IDS_PER_DELETE = 500

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** A query string with repeated keys (`state=A&state=B`), as the server reads its filters. */
export function searchOf(query: JobQuery): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      params.append(name, String(item))
    }
  }
  return params.toString()
}

/** One page of `GET /api/v1/jobs/`: `{count, results}` and its snapshot `seq`. */
export async function listJobs(query: JobQuery = {}) {
  return unwrapList(await api.GET('/jobs/', { params: { query } }))
}

/** `GET /jobs/{id}`. */
export async function getJob(id: number) {
  return unwrap(await api.GET('/jobs/{job_id}', { params: { path: { job_id: id } } }))
}

/**
 * `GET /jobs/state-counts`: per Site, how many jobs are in each state, and the snapshot
 * `seq` when the server sends one (today's server does not: `seq` is then undefined).
 */
export async function jobStateCounts() {
  const result = await api.GET('/jobs/state-counts')
  const rows = unwrap(result)
  const seq = responseSeq(result.response)
  return seq === undefined ? { rows } : { rows, seq }
}

/**
 * Moves every job in `ids` to `state` with `PATCH /jobs/` (all or nothing per call of at
 * most 5 000). The new rows arrive through the event stream, like everyone else's changes.
 */
export async function setJobStates(ids: readonly number[], state: JobState): Promise<void> {
  for (const part of chunks(ids, MAX_JOBS_PER_PATCH)) {
    const body = part.map((id) => ({ id, state }))
    ensureOk(await api.PATCH('/jobs/', { body }))
  }
}

/** Deletes every job in `ids` (`DELETE /jobs/?id=…`); jobs held by a Session are skipped. */
export async function deleteJobs(ids: readonly number[]): Promise<void> {
  for (const part of chunks(ids, IDS_PER_DELETE)) {
    // The route takes GET /jobs/'s filters (without paging), written as the server reads them.
    const search = searchOf({ id: part })
    ensureOk(await api.DELETE('/jobs/', { querySerializer: () => search, parseAs: 'text' }))
  }
}

/**
 * Moves every job matching `filters` to `state` (`PUT /jobs/?…`; the server refuses more
 * than 5 000). Answers how many jobs it moved.
 */
export async function setJobStatesWhere(filters: JobQuery, state: JobState): Promise<number> {
  const search = searchOf(filters)
  // As for DELETE: GET /jobs/'s filters (without paging), as the server reads them.
  const result = await api.PUT('/jobs/', {
    body: { state },
    querySerializer: () => search,
    parseAs: 'text',
  })
  ensureOk(result)
  return Number(result.data)
}

/**
 * Replaces the tags of every job in `ids` with `tags` (`PUT /jobs/?id=…` with `{"tags": …}`):
 * the server writes the whole object, so tags not in `tags` are removed.
 */
export async function replaceJobTags(
  ids: readonly number[],
  tags: Readonly<Record<string, string>>,
): Promise<void> {
  for (const part of chunks(ids, IDS_PER_DELETE)) {
    const search = searchOf({ id: part })
    ensureOk(
      await api.PUT('/jobs/', { body: { tags }, querySerializer: () => search, parseAs: 'text' }),
    )
  }
}

/** Replaces the tags of every job matching `filters` (at most 5 000); answers how many. */
export async function replaceJobTagsWhere(
  filters: JobQuery,
  tags: Readonly<Record<string, string>>,
): Promise<number> {
  const search = searchOf(filters)
  const result = await api.PUT('/jobs/', {
    body: { tags },
    querySerializer: () => search,
    parseAs: 'text',
  })
  ensureOk(result)
  return Number(result.data)
}

/** Deletes every job matching `filters` that no Session holds (`DELETE /jobs/?…`). */
export async function deleteJobsWhere(filters: JobQuery): Promise<void> {
  const search = searchOf(filters)
  ensureOk(await api.DELETE('/jobs/', { querySerializer: () => search, parseAs: 'text' }))
}

/**
 * Re-reads the jobs in `ids` (`GET /jobs/?id=…`, 500 per call) after an action, to say what
 * it did to each. Ids not in the answer no longer exist.
 */
export async function readJobs(ids: readonly number[]) {
  const pages = []
  for (const part of chunks(ids, IDS_PER_DELETE)) {
    pages.push(await listJobs({ id: [...part], limit: part.length }))
  }
  return pages
}

/**
 * Writes each job's own new tags (`PATCH /jobs/` with `[{id, tags}]`, ≤ 5 000 per call, all
 * or nothing per call): how a merge keeps the tags a job has and the others do not.
 */
export async function setEachJobTags(
  items: readonly { id: number; tags: Readonly<Record<string, string>> }[],
): Promise<void> {
  for (const part of chunks(items, MAX_JOBS_PER_PATCH)) {
    ensureOk(
      await api.PATCH('/jobs/', { body: part.map(({ id, tags }) => ({ id, tags: { ...tags } })) }),
    )
  }
}
