import { describe, expect, it } from 'vitest'

import { formatAgo, formatCount, formatDuration, formatUtc, parseServerTime } from './time'

describe('parseServerTime', () => {
  it('reads naive datetimes as UTC (spec §1.3.1)', () => {
    expect(parseServerTime('2026-11-29T17:01:53.101955')).toBe(
      Date.UTC(2026, 10, 29, 17, 1, 53, 101),
    )
  })

  it('honours an explicit offset', () => {
    expect(parseServerTime('2026-11-29T18:01:53+01:00')).toBe(Date.UTC(2026, 10, 29, 17, 1, 53))
    expect(parseServerTime('2026-11-29T17:01:53Z')).toBe(Date.UTC(2026, 10, 29, 17, 1, 53))
  })

  it('accepts a space separator and reports garbage as NaN', () => {
    expect(parseServerTime('2026-11-29 17:01:53')).toBe(Date.UTC(2026, 10, 29, 17, 1, 53))
    expect(parseServerTime('yesterday')).toBeNaN()
  })
})

describe('formatting', () => {
  const t0 = Date.UTC(2026, 0, 1, 12, 0, 0)

  it('writes human durations', () => {
    expect(formatDuration(45_000)).toBe('45 s')
    expect(formatDuration(12 * 60_000 + 5_000)).toBe('12 min')
    expect(formatDuration((3 * 60 + 12) * 60_000)).toBe('3 h 12 min')
    expect(formatDuration(3 * 3_600_000)).toBe('3 h')
    expect(formatDuration(52 * 3_600_000)).toBe('2 d 4 h')
    expect(formatDuration(-5)).toBe('0 s')
  })

  it('writes "n min ago", treating the future (clock skew) as just now', () => {
    expect(formatAgo(t0 - 5 * 60_000, t0)).toBe('5 min ago')
    expect(formatAgo(t0 - 30_000, t0)).toBe('just now')
    expect(formatAgo(t0 + 60_000, t0)).toBe('just now')
    expect(formatAgo(Number.NaN, t0)).toBe('never')
  })

  it('writes UTC for hover text, and counts with separators', () => {
    expect(formatUtc(t0)).toBe('2026-01-01 12:00:00 UTC')
    expect(formatCount(1234567, 'en-US')).toBe('1,234,567')
  })
})
