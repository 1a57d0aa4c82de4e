import { describe, expect, it } from 'vitest'

import type { BatchJob } from '@/api/types'

import { batchJobMatches, compareBatchJobs } from './batchJobs'

function bj(id: number, start: string | null, state = 'queued', site_id = 1): BatchJob {
  return { id, site_id, state, start_time: start } as BatchJob
}

describe('BatchJobs domain', () => {
  it('orders by start time like the server: not started first when descending', () => {
    const rows = [
      bj(1, '2026-11-29T10:00:00'),
      bj(2, null),
      bj(3, '2026-11-29T11:00:00'),
      bj(4, null),
    ]
    const ids = (o: '-start_time' | 'start_time') =>
      [...rows].sort(compareBatchJobs(o)).map((r) => r.id)

    expect(ids('-start_time')).toEqual([2, 4, 3, 1])
    expect(ids('start_time')).toEqual([1, 3, 2, 4])
  })

  it('filters by Site and state', () => {
    expect(batchJobMatches(bj(1, null, 'running', 2), { siteIds: [2], states: ['running'] })).toBe(
      true,
    )
    expect(batchJobMatches(bj(1, null, 'queued', 2), { siteIds: [], states: ['running'] })).toBe(
      false,
    )
    expect(batchJobMatches(bj(1, null, 'queued', 3), { siteIds: [2], states: [] })).toBe(false)
  })
})
