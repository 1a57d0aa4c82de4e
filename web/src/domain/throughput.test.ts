import { describe, expect, it } from 'vitest'

import { finishedPerMinute, MINUTE_MS, recentRate, windowStart } from './throughput'

const now = Date.UTC(2026, 10, 29, 12, 30, 20)
const at = (ms: number) => new Date(ms).toISOString().replace('Z', '')

describe('finishedPerMinute', () => {
  it('bins JOB_FINISHED events by minute over the window, current minute last', () => {
    const bins = finishedPerMinute(
      [
        { to_state: 'JOB_FINISHED', timestamp: at(now - 5_000) },
        { to_state: 'JOB_FINISHED', timestamp: at(now - 10_000) },
        { to_state: 'JOB_FINISHED', timestamp: at(now - MINUTE_MS) },
        { to_state: 'RUNNING', timestamp: at(now - 1_000) },
        { to_state: 'JOB_FINISHED', timestamp: at(now - 61 * MINUTE_MS) },
        { to_state: 'JOB_FINISHED', timestamp: 'garbage' },
      ],
      now,
      60,
    )

    expect(bins).toHaveLength(60)
    expect(bins[0]?.start).toBe(windowStart(now, 60))
    expect(bins.at(-1)).toEqual({ start: Date.UTC(2026, 10, 29, 12, 30), count: 2 })
    expect(bins.at(-2)?.count).toBe(1)
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(3)
  })
})

describe('recentRate', () => {
  it('averages whole minutes only', () => {
    const bins = [4, 6, 8, 100].map((count, i) => ({ start: i * MINUTE_MS, count }))
    expect(recentRate(bins, 2)).toBe(7)
    expect(recentRate([], 5)).toBe(0)
  })
})
