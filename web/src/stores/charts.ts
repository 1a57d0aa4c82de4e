// Repetition note: the resource stores share one shape on purpose (a table reducer, a load status, the same load/clear calls); the shared parts are resourceTable.ts and loadStatus.ts.
// The dashboard's charts per window: each window's aggregate fetched once (through the GET
// memo, so only a fresh start or a `resync` fetches it again), then advanced by the stream's
// LogEvents newer than the aggregate's snapshot, the utilisation's level now set by each pushed
// `state_counts` (its Sites' `running_nodes`). Holds a fixed number of buckets per window and
// the running moves of the window, never the LogEvents themselves.
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef, triggerRef } from 'vue'

import { fetchThroughput, fetchUtilization } from '@/api/aggregates'
import {
  advanceThroughput,
  advanceUtilization,
  CHART_WINDOWS,
  dropDeletedJobs,
  settleBusyNow,
  throughputState,
  utilizationState,
  type ChartWindow,
  type MoveEvent,
  type ThroughputState,
  type UtilizationState,
} from '@/domain/charts'
import { jobNodes } from '@/domain/utilization'
import { onAppliedChanges, onChangeArriving } from '@/realtime/appliedChanges'
import { STATE_COUNTS, type ResourceChange } from '@/realtime/change'

import { useAppsStore } from './apps'
import { useJobsStore } from './jobs'
import { useLoadStatus } from './loadStatus'

export const THROUGHPUT_PATH = '/aggregates/throughput'
export const UTILIZATION_PATH = '/aggregates/utilization'

/** The ids of a job delete change: `{"ids": [...]}` (docs/realtime.md), `[id, …]` or rows. */
export function deletedJobIds(change: ResourceChange): number[] {
  if (change.type !== 'job' || (change.action !== 'delete' && change.action !== 'bulk-delete')) {
    return []
  }
  const { ids } = (change.data ?? {}) as { ids?: unknown }
  if (Array.isArray(ids)) return ids.filter((id): id is number => typeof id === 'number')
  const items = Array.isArray(change.data) ? (change.data as unknown[]) : [change.data]
  return items.flatMap((item) => {
    if (typeof item === 'number') return [item]
    const id = (item as { id?: unknown } | null)?.id
    return typeof id === 'number' ? [id] : []
  })
}

/**
 * The nodes busy now over every Site, from a pushed `state_counts` change (Σ `running_nodes`);
 * `null` for any other change, or counts without it (a server from before it was added).
 */
export function pushedBusyNodes(change: ResourceChange): number | null {
  if (change.type !== STATE_COUNTS || !Array.isArray(change.data)) return null
  let sum = 0
  for (const row of change.data as unknown[]) {
    const nodes = (row as { running_nodes?: unknown } | null)?.running_nodes
    if (typeof nodes !== 'number' || !Number.isFinite(nodes)) return null
    sum += nodes
  }
  return sum
}

function moveEvents(change: ResourceChange): MoveEvent[] {
  if (change.type !== 'log_event') return []
  if (change.action !== 'create' && change.action !== 'bulk-create') return []
  const rows = Array.isArray(change.data) ? (change.data as unknown[]) : [change.data]
  return rows.filter(
    (row): row is MoveEvent =>
      typeof row === 'object' &&
      row !== null &&
      typeof (row as MoveEvent).job_id === 'number' &&
      typeof (row as MoveEvent).timestamp === 'string',
  )
}

export const useChartsStore = defineStore('charts', () => {
  const throughput = shallowRef<Partial<Record<ChartWindow, ThroughputState>>>({})
  const utilization = shallowRef<Partial<Record<ChartWindow, UtilizationState>>>({})
  /** Grows with every change of either chart (views redraw at their own pace). */
  const version = ref(0)
  const throughputStatus = useLoadStatus()
  const utilizationStatus = useLoadStatus()
  let generation = 0

  function loadThroughput(window: ChartWindow): Promise<boolean | null> {
    const mine = generation
    return throughputStatus.fetchRemembered(THROUGHPUT_PATH, { window }, async () => {
      await whileInFlight(async () => {
        const answer = await fetchThroughput(window)
        if (mine === generation) {
          const state = throughputState(answer, CHART_WINDOWS[window])
          advanceWindows([state], [], heldBack, Date.now())
          throughput.value = { ...throughput.value, [window]: state }
          version.value += 1
        }
      })
      return true
    })
  }

  function loadUtilization(window: ChartWindow): Promise<boolean | null> {
    const mine = generation
    return utilizationStatus.fetchRemembered(UTILIZATION_PATH, { window }, async () => {
      await whileInFlight(async () => {
        const answer = await fetchUtilization(window)
        if (mine === generation) {
          const state = utilizationState(answer, CHART_WINDOWS[window])
          advanceWindows([], [state], heldBack, Date.now())
          utilization.value = { ...utilization.value, [window]: state }
          version.value += 1
        }
      })
      return true
    })
  }

  // Changes applied while an aggregate is in flight: its answer may predate them, so they
  // are replayed onto the new window (which skips what its snapshot already counts). At
  // most HELD_BACK_MAX are kept, for a fetch that hangs.
  let inFlight = 0
  const heldBack: ResourceChange[] = []
  const HELD_BACK_MAX = 20_000
  async function whileInFlight<T>(load: () => Promise<T>): Promise<T> {
    inFlight += 1
    try {
      return await load()
    } finally {
      inFlight -= 1
      if (inFlight === 0) {
        heldBack.length = 0
        runningAtDelete.clear()
      }
    }
  }

  // The nodes of deleted jobs that the jobs store held as RUNNING when their delete arrived
  // (read before the store drops them): kept until every window, and any replay of the
  // delete onto a window still in flight, has seen it.
  const runningAtDelete = new Map<number, number>()
  onChangeArriving((change) => {
    const ids = deletedJobIds(change)
    if (ids.length === 0) return
    const byId = useJobsStore().peekById()
    for (const id of ids) {
      const job = byId[id]
      if (job?.state === 'RUNNING' && runningAtDelete.size < HELD_BACK_MAX) {
        runningAtDelete.set(id, jobNodes(job))
      }
    }
  })

  /** Moves these windows on by a batch of applied changes; whether any moved. */
  function advanceWindows(
    throughputs: ThroughputState[],
    utilizations: UtilizationState[],
    changes: readonly ResourceChange[],
    now: number,
  ): boolean {
    const jobs = useJobsStore()
    const apps = useAppsStore()
    const byId = jobs.peekById()
    const appsById = apps.peekById()
    const siteOf = (jobId: number) => {
      const job = byId[jobId]
      return (job === undefined ? undefined : appsById[job.app_id]?.site_id) ?? 0
    }
    const nodesOf = (jobId: number) => {
      const job = byId[jobId]
      return job === undefined ? undefined : jobNodes(job)
    }
    let touched = false
    for (const change of changes) {
      const deleted = deletedJobIds(change)
      if (deleted.length > 0 && change.seq !== undefined) {
        for (const state of utilizations) {
          dropDeletedJobs(state, deleted, change.seq, now, (id) => runningAtDelete.get(id))
          touched = true
        }
      }
      // The last change of a commit that moved the counts: the level now is the server's.
      const busyNow = pushedBusyNodes(change)
      if (busyNow !== null && change.seq !== undefined) {
        for (const state of utilizations) {
          settleBusyNow(state, busyNow, change.seq, now)
          touched = true
        }
        continue
      }
      const events = moveEvents(change)
      if (events.length === 0 || change.seq === undefined) continue
      for (const state of throughputs) {
        advanceThroughput(state, events, change.seq, siteOf, now)
        touched = true
      }
      for (const state of utilizations) {
        advanceUtilization(state, events, change.seq, nodesOf, now)
        touched = true
      }
    }
    return touched
  }

  /** Moves every loaded window on by a batch of applied changes. */
  function advance(changes: readonly ResourceChange[], now = Date.now()) {
    if (inFlight > 0 && heldBack.length < HELD_BACK_MAX) {
      // Only what can move a window: LogEvents, job deletes and pushed counts.
      heldBack.push(
        ...changes.filter(
          (c) => c.type === 'log_event' || c.type === STATE_COUNTS || deletedJobIds(c).length > 0,
        ),
      )
    }
    const touched = advanceWindows(
      Object.values(throughput.value),
      Object.values(utilization.value),
      changes,
      now,
    )
    if (inFlight === 0) runningAtDelete.clear()
    if (touched) {
      triggerRef(throughput)
      triggerRef(utilization)
      version.value += 1
    }
  }

  onAppliedChanges((changes) => advance(changes))

  // Where each window's "BatchJobs ended since" fetch starts: fixed at the window's first
  // load, so a dashboard opened again after a minute boundary asks the same question (the
  // GET memo answers it) instead of a new one; the stream keeps the BatchJobs current.
  const batchJobsSince: Partial<Record<ChartWindow, string>> = {}
  function batchJobsEndedSince(window: ChartWindow, start: () => number): string {
    return (batchJobsSince[window] ??= new Date(start()).toISOString())
  }

  function clear() {
    for (const window of Object.keys(batchJobsSince) as ChartWindow[]) delete batchJobsSince[window]
    generation += 1
    throughput.value = {}
    utilization.value = {}
    throughputStatus.resetStatus()
    utilizationStatus.resetStatus()
    version.value += 1
  }

  return {
    throughput,
    utilization,
    version,
    throughputError: throughputStatus.error,
    utilizationError: utilizationStatus.error,
    loadThroughput,
    loadUtilization,
    batchJobsEndedSince,
    advance,
    clear,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useChartsStore, import.meta.hot))
