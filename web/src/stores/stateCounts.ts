// Per-Site job counts by state: fetched once (`GET /jobs/state-counts`, through the GET memo,
// so only a fresh start or a `resync` fetches them again), then kept current from the event
// stream without another request:
//
// - every state change of a job comes with a LogEvent `from_state → to_state` in the same
//   commit (docs/realtime.md), and the job's own event comes just before it, so the job's
//   App, hence its Site, is known: one down, one up. A job's creation is a LogEvent from
//   `CREATED` (jobs are never counted in CREATED: they are created in a later state), so it
//   only counts up.
// - a job deleted while this browser holds it counts down in its state; one it never loaded
//   cannot be placed: `unplaced` says how many, and the dashboard offers a refresh.
// - a deleted Site takes its counts with it.
//
// The counts carry no snapshot `seq` on today's server, so the events applied before the
// answer arrived are taken as included in it (an event racing the answer may be counted
// twice or not at all; a `resync` or the refresh button fixes that). When the answer carries
// `X-Balsam-Seq`, events at or below it are skipped exactly.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'

import { getMemo, memoKey } from '@/api/getMemo'
import { jobStateCounts } from '@/api/jobs'
import type { ResourceChange } from '@/realtime/change'

import { describeError } from './loadStatus'

export const STATE_COUNTS_PATH = '/jobs/state-counts'

type Counts = Record<string, number>

/** What a change needs to know about the stores before it is applied. */
export interface CountLookups {
  /** The job's Site and state, when this browser holds the job. */
  job(id: number): { siteId: number; state: string } | undefined
  /** A job's Site, after its own event (which precedes its LogEvent) has been applied. */
  siteOfJob(id: number): number | undefined
}

function rowsOf(data: unknown): Record<string, unknown>[] {
  const list = Array.isArray(data) ? data : [data]
  return list.filter(
    (row): row is Record<string, unknown> => typeof row === 'object' && row !== null,
  )
}

function idsOf(data: unknown): number[] {
  if (Array.isArray(data)) {
    return data.flatMap((item: unknown) =>
      typeof item === 'number' ? [item] : rowsOf(item).map((row) => row.id as number),
    )
  }
  if (typeof data === 'object' && data !== null) {
    const { ids, id } = data as { ids?: unknown; id?: unknown }
    if (Array.isArray(ids)) return ids.filter((x): x is number => typeof x === 'number')
    if (typeof id === 'number') return [id]
  }
  return []
}

/**
 * Applies one change to `counts` (mutated); answers how many deleted jobs it could not place,
 * or `null` when the change does not touch the counts.
 */
export function countChange(
  counts: Map<number, Counts>,
  change: ResourceChange,
  lookups: CountLookups,
): number | null {
  const bump = (siteId: number, state: string, by: number) => {
    let site = counts.get(siteId)
    if (site === undefined) counts.set(siteId, (site = {}))
    else site = { ...site }
    const next = (site[state] ?? 0) + by
    if (next > 0) site[state] = next
    else delete site[state]
    counts.set(siteId, site)
  }
  if (
    change.type === 'log_event' &&
    (change.action === 'create' || change.action === 'bulk-create')
  ) {
    let unplaced = 0
    let touched = false
    for (const row of rowsOf(change.data)) {
      const { job_id: jobId, from_state: from, to_state: to } = row
      if (typeof jobId !== 'number' || typeof to !== 'string' || from === to) continue
      const siteId = lookups.siteOfJob(jobId)
      if (siteId === undefined) {
        unplaced += 1
        continue
      }
      touched = true
      if (typeof from === 'string' && from !== 'CREATED') bump(siteId, from, -1)
      bump(siteId, to, +1)
    }
    return touched || unplaced > 0 ? unplaced : null
  }
  if (change.type === 'job' && (change.action === 'delete' || change.action === 'bulk-delete')) {
    let unplaced = 0
    for (const id of idsOf(change.data)) {
      const job = lookups.job(id)
      if (job === undefined) unplaced += 1
      else bump(job.siteId, job.state, -1)
    }
    return unplaced
  }
  if (change.type === 'site' && change.action === 'delete') {
    for (const id of idsOf(change.data)) counts.delete(id)
    return 0
  }
  return null
}

export const useStateCountsStore = defineStore('stateCounts', () => {
  const bySite = shallowRef<ReadonlyMap<number, Readonly<Counts>>>(new Map())
  const loadedAt = ref<number | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  /** Jobs deleted since the counts were fetched that this browser could not place. */
  const unplaced = ref(0)
  /** The answer's snapshot, when the server sends one: events up to it are included. */
  let snapshotSeq: number | undefined
  let generation = 0
  /** Counts being changed by the batch under way, published by `publish`. */
  let draft: Map<number, Counts> | null = null

  /** Fetches the counts unless the GET memo already has them (at most once per stream life). */
  async function load(): Promise<boolean> {
    const mine = generation
    loading.value = true
    try {
      await getMemo.run(memoKey(STATE_COUNTS_PATH), async () => {
        const answer = await jobStateCounts()
        if (mine !== generation) return
        draft = null
        bySite.value = new Map(answer.rows.map((row) => [row.site_id, row.counts]))
        snapshotSeq = answer.seq
        unplaced.value = 0
        loadedAt.value = Date.now()
      })
      if (mine === generation) error.value = null
      return true
    } catch (failure) {
      if (mine === generation) error.value = describeError(failure)
      return false
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  /** Fetches again because the user asked to. */
  function refresh(): Promise<boolean> {
    getMemo.forget(memoKey(STATE_COUNTS_PATH))
    return load()
  }

  /** Takes one event into account, before it is applied to the stores (see the top). */
  function track(change: ResourceChange, lookups: CountLookups) {
    if (loadedAt.value === null) return
    if (snapshotSeq !== undefined && change.seq !== undefined && change.seq <= snapshotSeq) return
    const working = draft ?? new Map(bySite.value)
    const missed = countChange(working, change, lookups)
    if (missed === null) return
    draft = working
    if (missed > 0) unplaced.value += missed
  }

  /** Shows what the tracked events changed (once per applied batch). */
  function publish() {
    if (draft === null) return
    bySite.value = draft
    draft = null
  }

  /**
   * Applies the server's pushed counts (`state_counts`, the last change of each commit
   * that moved them): exact at that sequence number, so they replace whatever the
   * events before them estimated, and nothing is left unplaced.
   */
  function replace(change: ResourceChange) {
    if (!Array.isArray(change.data)) return
    const next = new Map<number, Counts>()
    for (const row of change.data as unknown[]) {
      if (typeof row !== 'object' || row === null) continue
      const { site_id: siteId, counts } = row as { site_id?: unknown; counts?: unknown }
      if (typeof siteId !== 'number' || typeof counts !== 'object' || counts === null) continue
      next.set(siteId, { ...(counts as Counts) })
    }
    draft = next
    snapshotSeq = change.seq
    unplaced.value = 0
    loadedAt.value ??= Date.now()
    error.value = null
  }

  /** Counts per state over every Site. */
  const totals = computed(() => {
    const sums: Counts = {}
    for (const counts of bySite.value.values()) {
      for (const [state, n] of Object.entries(counts)) sums[state] = (sums[state] ?? 0) + n
    }
    return sums
  })

  function clear() {
    generation += 1
    draft = null
    snapshotSeq = undefined
    bySite.value = new Map()
    loadedAt.value = null
    error.value = null
    loading.value = false
    unplaced.value = 0
  }

  return {
    bySite,
    totals,
    loadedAt,
    error,
    loading,
    unplaced,
    load,
    refresh,
    track,
    replace,
    publish,
    clear,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useStateCountsStore, import.meta.hot))
