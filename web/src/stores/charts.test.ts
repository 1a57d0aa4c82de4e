import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { busySteps } from '@/domain/charts'
import { notifyApplied, notifyArriving } from '@/realtime/appliedChanges'
import { makeJob } from '@/test-support/jobFactory'

import { pushedBusyNodes, useChartsStore } from './charts'
import { useJobsStore } from './jobs'

beforeEach(() => {
  setActivePinia(createPinia())
})

/** The hour's utilisation aggregate as of `now` (snapshot seq 5, 3 nodes busy throughout). */
function hourAnswer(now: number) {
  return {
    window: 'hour' as const,
    start: new Date(now - 59 * 60_000).toISOString(),
    end: new Date(now + 60_000).toISOString(),
    as_of: new Date(now).toISOString(),
    bucket_seconds: 60,
    buckets: 60,
    busy_start: Array<number>(60).fill(0),
    busy_mean: Array<number>(60).fill(3),
    busy_now: 3,
    seq: 5,
  }
}

describe('the BatchJobs a utilisation window asks for', () => {
  it('start where the window first started, so a later visit asks the same question', () => {
    const charts = useChartsStore()
    const first = charts.batchJobsEndedSince('hour', () => Date.parse('2026-12-04T10:00:00Z'))
    // A minute later the window starts later, but the question stays the first one.
    const again = charts.batchJobsEndedSince('hour', () => Date.parse('2026-12-04T10:01:00Z'))
    expect(first).toBe('2026-12-04T10:00:00.000Z')
    expect(again).toBe(first)
    // Each window has its own start; a cleared store (new user, resync) starts afresh.
    expect(charts.batchJobsEndedSince('day', () => Date.parse('2026-12-03T10:00:00Z'))).toBe(
      '2026-12-03T10:00:00.000Z',
    )
    charts.clear()
    expect(charts.batchJobsEndedSince('hour', () => Date.parse('2026-12-04T10:01:00Z'))).toBe(
      '2026-12-04T10:01:00.000Z',
    )
  })
})

describe('a change applied while the window is being fetched', () => {
  it('is replayed onto the window when it arrives, unless its snapshot counts it', async () => {
    const { fetchUtilization } = await import('@/api/aggregates')
    const now = Date.now()
    let answer!: (value: Awaited<ReturnType<typeof fetchUtilization>>) => void
    const spy = vi
      .spyOn(await import('@/api/aggregates'), 'fetchUtilization')
      .mockImplementation(() => new Promise((resolve) => (answer = resolve)))
    const charts = useChartsStore()
    const loading = charts.loadUtilization('hour')
    const running = (seq: number, jobId: number) => ({
      action: 'bulk-create' as const,
      type: 'log_event' as const,
      seq,
      data: [
        {
          id: seq,
          job_id: jobId,
          timestamp: new Date(now + 1_000).toISOString(),
          from_state: 'PREPROCESSED',
          to_state: 'RUNNING',
          data: {},
        },
      ],
    })
    // Seq 4 is in the snapshot (seq 5); seq 6 came after it: only that one moves the window.
    charts.advance([running(4, 1), running(6, 2)] as never, now)
    answer({ ...hourAnswer(now), busy_mean: Array<number>(60).fill(0), busy_now: 1 })
    await loading
    const state = charts.utilization.hour!
    expect(state.moves.map((m) => m.delta)).toEqual([1])
    spy.mockRestore()
  })
})

describe('a running job deleted', () => {
  const answer = hourAnswer
  const deleteJob = (seq: number, id: number) => ({
    action: 'bulk-delete' as const,
    type: 'job' as const,
    seq,
    data: { ids: [id] },
  })
  /** What the event stream does with a change: note it, apply it, then tell the listeners. */
  function stream(change: ReturnType<typeof deleteJob>) {
    notifyArriving(change)
    useJobsStore().apply(change)
    notifyApplied([change])
  }

  it('frees its nodes at once, though it started before the snapshot', async () => {
    const now = Date.now()
    const spy = vi
      .spyOn(await import('@/api/aggregates'), 'fetchUtilization')
      .mockResolvedValue(answer(now))
    const jobs = useJobsStore()
    jobs.apply({
      action: 'bulk-create',
      type: 'job',
      seq: 3,
      data: [makeJob(7, 'RUNNING', { num_nodes: 2 }), makeJob(8, 'READY')],
    })
    const charts = useChartsStore()
    await charts.loadUtilization('hour')

    stream(deleteJob(6, 7))
    stream(deleteJob(7, 8))

    const state = charts.utilization.hour!
    expect(state.moves.map((m) => m.delta)).toEqual([-2])
    expect(busySteps(state, now + 1_000).at(-1)?.value).toBe(1)
    spy.mockRestore()
  })

  it('frees its nodes when the delete came while the window was in flight', async () => {
    const now = Date.now()
    let resolve!: (value: ReturnType<typeof answer>) => void
    const spy = vi
      .spyOn(await import('@/api/aggregates'), 'fetchUtilization')
      .mockImplementation(() => new Promise((r) => (resolve = r)) as never)
    useJobsStore().apply({
      action: 'bulk-create',
      type: 'job',
      seq: 3,
      data: [makeJob(7, 'RUNNING', { num_nodes: 2 })],
    })
    const charts = useChartsStore()
    const loading = charts.loadUtilization('hour')
    // Deleted (seq 6) before the answer, whose snapshot (seq 5) still counts the job.
    stream(deleteJob(6, 7))
    resolve(answer(now))
    await loading

    const state = charts.utilization.hour!
    expect(state.moves.map((m) => m.delta)).toEqual([-2])
    expect(busySteps(state, now + 1_000).at(-1)?.value).toBe(1)
    spy.mockRestore()
  })
})

describe('the level now from the pushed counts', () => {
  const counts = (seq: number, ...runningNodes: number[]) => ({
    action: 'update' as const,
    type: 'state_counts' as const,
    seq,
    data: runningNodes.map((nodes, i) => ({
      site_id: i + 1,
      counts: { RUNNING: Math.ceil(nodes) },
      running_nodes: nodes,
    })),
  })

  it('sums running_nodes over the Sites, and is null without it', () => {
    expect(pushedBusyNodes(counts(1, 2.5, 4) as never)).toBe(6.5)
    expect(pushedBusyNodes(counts(1) as never)).toBe(0)
    const old = { ...counts(1, 3), data: [{ site_id: 1, counts: { RUNNING: 3 } }] }
    expect(pushedBusyNodes(old as never)).toBeNull()
    expect(pushedBusyNodes({ action: 'bulk-delete', type: 'job', seq: 1, data: {} } as never)).toBe(
      null,
    )
  })

  it('drops a running job deleted by someone whose browser never held it', async () => {
    const now = Date.now()
    const spy = vi
      .spyOn(await import('@/api/aggregates'), 'fetchUtilization')
      .mockResolvedValue(hourAnswer(now))
    const charts = useChartsStore()
    await charts.loadUtilization('hour')
    // The delete carries ids only, of a job this browser never loaded; its commit's counts
    // come right after it: two Sites, 1 + 0.5 nodes busy where the snapshot had 3.
    const deleted = {
      action: 'bulk-delete' as const,
      type: 'job' as const,
      seq: 6,
      data: { ids: [42] },
    }
    notifyArriving(deleted)
    useJobsStore().apply(deleted)
    notifyApplied([deleted, counts(6, 1, 0.5)] as never)

    expect(busySteps(charts.utilization.hour!, now + 1_000).at(-1)?.value).toBe(1.5)
    spy.mockRestore()
  })

  it('follows a num_nodes patch of a running job, which moves no LogEvent', async () => {
    const now = Date.now()
    const spy = vi
      .spyOn(await import('@/api/aggregates'), 'fetchUtilization')
      .mockResolvedValue(hourAnswer(now))
    const charts = useChartsStore()
    await charts.loadUtilization('hour')
    const patched = {
      action: 'bulk-update' as const,
      type: 'job' as const,
      seq: 7,
      data: [makeJob(7, 'RUNNING', { num_nodes: 4 })],
    }
    useJobsStore().apply(patched)
    notifyApplied([patched, counts(7, 6)] as never)

    expect(busySteps(charts.utilization.hour!, now + 1_000).at(-1)?.value).toBe(6)
    spy.mockRestore()
  })

  it('applies counts that came while the window was in flight, unless its snapshot has them', async () => {
    const now = Date.now()
    let resolve!: (value: ReturnType<typeof hourAnswer>) => void
    const spy = vi
      .spyOn(await import('@/api/aggregates'), 'fetchUtilization')
      .mockImplementation(() => new Promise((r) => (resolve = r)) as never)
    const charts = useChartsStore()
    const loading = charts.loadUtilization('hour')
    charts.advance([counts(4, 9), counts(6, 2)] as never, now)
    resolve(hourAnswer(now))
    await loading

    expect(busySteps(charts.utilization.hour!, now + 1_000).at(-1)?.value).toBe(2)
    spy.mockRestore()
  })
})
