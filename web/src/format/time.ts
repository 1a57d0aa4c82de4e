// Times from the server and how the UI writes them: naive datetimes are UTC (spec §1.3.1),
// shown in the user's zone, with the UTC instant available on hover.

const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i

/** Milliseconds since the epoch for a server datetime; naive values are UTC. NaN if invalid. */
export function parseServerTime(value: string): number {
  const iso = value.trim().replace(' ', 'T')
  return Date.parse(OFFSET.test(iso) ? iso : `${iso}Z`)
}

/** `2026-11-29 17:01:53 UTC`, for `title` attributes. */
export function formatUtc(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown time'
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

/** Local date and time, e.g. `29 Nov 2026, 18:01`. */
export function formatLocal(ms: number, locale?: string): string {
  if (!Number.isFinite(ms)) return 'unknown time'
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(ms)
}

/** Local date and time to the second, e.g. `29 Nov 2026, 18:01:53`. */
export function formatLocalSeconds(ms: number, locale?: string): string {
  if (!Number.isFinite(ms)) return 'unknown time'
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(ms)
}

/** Human duration: `45 s`, `12 min`, `3 h 12 min`, `2 d 4 h`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000))
  if (seconds < 60) return `${seconds} s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`
  const days = Math.floor(hours / 24)
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`
}

/** `just now`, `5 min ago`, `3 h 12 min ago`; future instants (clock skew) read `just now`. */
export function formatAgo(ms: number, now: number): string {
  if (!Number.isFinite(ms)) return 'never'
  const elapsed = now - ms
  if (elapsed < 60_000) return 'just now'
  return `${formatDuration(elapsed)} ago`
}

/** Counts with thousands separators. */
export function formatCount(n: number, locale?: string): string {
  return new Intl.NumberFormat(locale).format(n)
}
