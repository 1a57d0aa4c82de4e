import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'

import { useChartsStore } from './charts'

beforeEach(() => {
  setActivePinia(createPinia())
})

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
    answer({
      window: 'hour',
      start: new Date(now - 59 * 60_000).toISOString(),
      end: new Date(now + 60_000).toISOString(),
      as_of: new Date(now).toISOString(),
      bucket_seconds: 60,
      buckets: 60,
      busy_start: Array<number>(60).fill(0),
      busy_mean: Array<number>(60).fill(0),
      busy_now: 1,
      seq: 5,
    })
    await loading
    const state = charts.utilization.hour!
    expect(state.moves.map((m) => m.delta)).toEqual([1])
    spy.mockRestore()
  })
})
