import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'

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
