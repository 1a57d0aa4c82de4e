import { describe, expect, it } from 'vitest'

import { MINUTE_MS, recentRate, throughputSummary } from './throughput'

describe('recentRate', () => {
  it('averages whole minutes only', () => {
    const bins = [4, 6, 8, 100].map((count, i) => ({ start: i * MINUTE_MS, count }))
    expect(recentRate(bins, 2)).toBe(7)
    expect(recentRate([], 5)).toBe(0)
  })
})

describe('throughputSummary', () => {
  const bins = (counts: number[]) => counts.map((count, i) => ({ start: i * MINUTE_MS, count }))

  it('reports a burst in the current minute instead of a bare zero rate', () => {
    // A demo burst: nothing for an hour, then 1 200 finishes in the last few seconds.
    const text = throughputSummary(bins([...Array<number>(59).fill(0), 1200]))
    expect(text).toContain('1,200 jobs finished in the last 60 minutes')
    expect(text).toContain('1,200 so far this minute')
    expect(text).toContain('0 per minute over the 5 whole minutes before')
    expect(text).toContain('peak 1,200 in one minute')
  })

  it('averages the whole minutes before the current one', () => {
    const text = throughputSummary(bins([0, 10, 20, 30, 40, 51, 3]))
    expect(text).toContain('3 so far this minute')
    expect(text).toContain('30.2 per minute over the 5 whole minutes before')
    expect(text).toContain('154 jobs finished in the last 7 minutes')
  })

  it('headlines the answer’s count, not the fetch’s limit, when the fetch was cut short', () => {
    // 20 000 finishes fetched (the limit) of 169 638 the server counted in the window.
    const text = throughputSummary(bins([...Array<number>(59).fill(0), 20_000]), 5, {
      count: 149_638,
      exact: true,
    })
    expect(text).toContain('169,638 jobs finished in the last 60 minutes')
    expect(text).toContain('the bars show 20,000 of them')
    expect(text).not.toMatch(/^20,000 jobs/)
    const slid = throughputSummary(bins([20_000]), 5, { count: 10, exact: false })
    expect(slid).toMatch(/^Up to 20,010 jobs finished/)
  })
})
