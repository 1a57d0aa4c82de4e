// The throughput chart's numbers in words: jobs finished per bucket (LogEvents into
// JOB_FINISHED, upstream's `balsam.analytics.throughput_report`), bucketed by the server
// (`GET /aggregates/throughput`, domain/charts.ts).
import { jobsCount } from '@/domain/jobActions'
import { formatCount } from '@/format/time'

export const MINUTE_MS = 60_000

/** One bar: a bucket's start (epoch ms) and the jobs finished in it. */
export interface MinuteBin {
  start: number
  count: number
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
  /** The bins' width and the window in words (by default, minutes). */
  words: { one: string; many: string; span: string } = {
    one: 'minute',
    many: 'minutes',
    span: `the last ${bins.length} minutes`,
  },
): string {
  const binned = bins.reduce((sum, bin) => sum + bin.count, 0)
  const total = binned + unseen.count
  const current = bins.at(-1)?.count ?? 0
  const rate = Math.round(recentRate(bins, rateMinutes) * 10) / 10
  const peak = Math.max(0, ...bins.map((bin) => bin.count))
  const headline =
    unseen.count === 0
      ? `${jobsCount(total)} finished in ${words.span}: `
      : `${unseen.exact ? '' : 'Up to '}${jobsCount(total)} finished in ${words.span} ` +
        `(the bars show ${formatCount(binned)} of them): `
  return (
    headline +
    `${formatCount(current)} so far this ${words.one}, ` +
    `${formatCount(rate)} per ${words.one} over the ${rateMinutes} whole ${words.many} before; ` +
    `peak ${formatCount(peak)} in one ${words.one}.`
  )
}
