// Jobs finished per minute, from the LogEvents whose `to_state` is JOB_FINISHED (the same
// reading as upstream's `balsam.analytics.throughput_report`), for the dashboard chart.
import type { LogEvent } from '@/api/types'
import { jobsCount } from '@/domain/jobActions'
import { formatCount, parseServerTime } from '@/format/time'

export const MINUTE_MS = 60_000

export interface MinuteBin {
  /** Epoch ms of the minute's start. */
  start: number
  count: number
}

/** The first minute a window of `minutes` whole minutes ending with `now`'s minute covers. */
export function windowStart(now: number, minutes: number): number {
  return (Math.floor(now / MINUTE_MS) - (minutes - 1)) * MINUTE_MS
}

/**
 * One bin per minute for the last `minutes` minutes (the current, partial minute last),
 * counting the events that finished a job in it. Other events are ignored.
 */
export function finishedPerMinute(
  events: Iterable<Pick<LogEvent, 'to_state' | 'timestamp'>>,
  now: number,
  minutes = 60,
): MinuteBin[] {
  const first = windowStart(now, minutes)
  const bins: MinuteBin[] = Array.from({ length: minutes }, (_, i) => ({
    start: first + i * MINUTE_MS,
    count: 0,
  }))
  for (const event of events) {
    if (event.to_state !== 'JOB_FINISHED') continue
    const index = Math.floor((parseServerTime(event.timestamp) - first) / MINUTE_MS)
    const bin = bins[index]
    if (bin !== undefined) bin.count += 1
  }
  return bins
}

/** Finishes per minute over the last `minutes` whole minutes (the partial one left out). */
export function recentRate(bins: readonly MinuteBin[], minutes = 5): number {
  const whole = bins.slice(0, -1).slice(-minutes)
  if (whole.length === 0) return 0
  return whole.reduce((sum, bin) => sum + bin.count, 0) / whole.length
}

/**
 * The chart's numbers in words. The current minute is partial, so it is reported on its own
 * ("so far this minute") beside the rate over the whole minutes before it: a burst that
 * finished jobs a few seconds ago shows in the text as it shows in the last bar.
 */
export function throughputSummary(
  bins: readonly MinuteBin[],
  rateMinutes = 5,
  /** Finishes the bins miss (beyond the fetch's limit); `exact` when all are still in the window. */
  unseen: { count: number; exact: boolean } = { count: 0, exact: true },
): string {
  const binned = bins.reduce((sum, bin) => sum + bin.count, 0)
  const total = binned + unseen.count
  const current = bins.at(-1)?.count ?? 0
  const rate = Math.round(recentRate(bins, rateMinutes) * 10) / 10
  const peak = Math.max(0, ...bins.map((bin) => bin.count))
  const headline =
    unseen.count === 0
      ? `${jobsCount(total)} finished in the last ${bins.length} minutes: `
      : `${unseen.exact ? '' : 'Up to '}${jobsCount(total)} finished in the last ${bins.length} minutes ` +
        `(the bars show ${formatCount(binned)} of them): `
  return (
    headline +
    `${formatCount(current)} so far this minute, ` +
    `${formatCount(rate)} per minute over the ${rateMinutes} whole minutes before; ` +
    `peak ${formatCount(peak)} in one minute.`
  )
}
