// When a Site counts as stale: the Site agent PUTs every ~60 s and the CLI calls a Site
// "active" when `last_refresh` is within 2 minutes (spec balsam-semantics.md §6).
import { parseServerTime } from '@/format/time'

export const SITE_STALE_AFTER_MS = 2 * 60_000

export function siteLastRefreshMs(site: { last_refresh: string }): number {
  return parseServerTime(site.last_refresh)
}

export function isSiteStale(site: { last_refresh: string }, now: number): boolean {
  const refreshed = siteLastRefreshMs(site)
  return !Number.isFinite(refreshed) || now - refreshed > SITE_STALE_AFTER_MS
}
