import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { jobStateCounts } from '@/api/jobs'
import { notifyApplied } from '@/realtime/appliedChanges'

import { changesCounts, REFRESH_AFTER_EVENTS_MS, useStateCountsStore } from './stateCounts'

vi.mock('@/api/jobs')

beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  vi.mocked(jobStateCounts).mockResolvedValue([
    { site_id: 1, counts: { RUNNING: 2, FAILED: 1 } },
    { site_id: 2, counts: { RUNNING: 3 } },
  ])
})

afterEach(() => {
  vi.useRealTimers()
})

const jobEvent = { seq: 1, action: 'bulk-update' as const, type: 'job' as const, data: [] }

describe('state counts store', () => {
  it('loads counts per Site and totals them', async () => {
    const counts = useStateCountsStore()
    await counts.refresh()

    expect(counts.bySite.get(1)).toEqual({ RUNNING: 2, FAILED: 1 })
    expect(counts.totals).toEqual({ RUNNING: 5, FAILED: 1 })
    expect(counts.loadedAt).not.toBeNull()
  })

  it('refetches once, a second after a burst of job events, while followed', async () => {
    const counts = useStateCountsStore()
    const off = counts.follow()
    notifyApplied([jobEvent])
    notifyApplied([jobEvent])
    notifyApplied([{ ...jobEvent, type: 'site', action: 'update' }])
    expect(jobStateCounts).not.toHaveBeenCalled()

    await vi.advanceTimersByTimeAsync(REFRESH_AFTER_EVENTS_MS)
    expect(jobStateCounts).toHaveBeenCalledOnce()

    off()
    notifyApplied([jobEvent])
    await vi.advanceTimersByTimeAsync(REFRESH_AFTER_EVENTS_MS * 5)
    expect(jobStateCounts).toHaveBeenCalledOnce()
  })

  it('runs one more fetch when asked during a fetch, never two at once', async () => {
    let finish: () => void = () => undefined
    vi.mocked(jobStateCounts).mockImplementationOnce(
      () => new Promise((resolve) => (finish = () => resolve([]))),
    )
    const counts = useStateCountsStore()
    const first = counts.refresh()
    void counts.refresh()
    void counts.refresh()
    expect(jobStateCounts).toHaveBeenCalledOnce()
    finish()
    await first
    await vi.waitFor(() => expect(jobStateCounts).toHaveBeenCalledTimes(2))
  })

  it('records a failure and keeps the last counts', async () => {
    const counts = useStateCountsStore()
    await counts.refresh()
    vi.mocked(jobStateCounts).mockRejectedValueOnce(new Error('The server answered 500'))
    await counts.refresh()

    expect(counts.error).toBe('The server answered 500')
    expect(counts.totals.RUNNING).toBe(5)
  })

  it('drops an answer that arrives after clear (a logout)', async () => {
    const counts = useStateCountsStore()
    const pending = counts.refresh()
    counts.clear()
    await pending

    expect(counts.bySite.size).toBe(0)
  })
})

describe('changesCounts', () => {
  it('is true for job events and Site/App deletes (they cascade to jobs)', () => {
    expect(changesCounts([jobEvent])).toBe(true)
    expect(changesCounts([{ ...jobEvent, type: 'app', action: 'delete' }])).toBe(true)
    expect(changesCounts([{ ...jobEvent, type: 'site', action: 'update' }])).toBe(false)
    expect(changesCounts([{ ...jobEvent, type: 'log_event' }])).toBe(false)
  })
})
