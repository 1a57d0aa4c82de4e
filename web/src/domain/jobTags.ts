// Editing job tags. The server writes a job's whole `tags` object, so a merge (the default)
// computes each job's own new tags here and writes them per job (`PATCH /jobs/`), keeping
// the tags the user did not touch; "replace all tags" writes one object onto every job. The
// editor starts from the tags every selected job shares and says, before anything is
// written, which tags each job loses, gains or sees changed.
import { formatCount } from '@/format/time'

import { jobsCount } from './jobActions'

export type Tags = Readonly<Record<string, string>>

/** The key/value pairs every job in `tagSets` carries (empty for no jobs). */
export function commonTags(tagSets: readonly Tags[]): Record<string, string> {
  const [first, ...rest] = tagSets
  if (first === undefined) return {}
  const common: Record<string, string> = {}
  for (const [key, value] of Object.entries(first)) {
    if (rest.every((tags) => tags[key] === value)) common[key] = value
  }
  return common
}

/** What replacing every job's tags with `next` does, as sentences. */
export function tagChanges(current: readonly Tags[], next: Tags): string[] {
  return tagChangesEach(current, () => next)
}

export interface TagRow {
  key: string
  value: string
}

/** The rows as a tags object, or why they cannot be one. */
export function tagsFromRows(
  rows: readonly TagRow[],
): { tags: Record<string, string> } | { error: string } {
  const tags: Record<string, string> = {}
  for (const { key: raw, value } of rows) {
    const key = raw.trim()
    if (key === '' && value === '') continue
    if (key === '') return { error: `A tag needs a key (value ${value})` }
    if (key.includes(':'))
      return { error: `Keys cannot contain ":" (${key}): filters use key:value` }
    if (key in tags) return { error: `Tag ${key} is given twice` }
    tags[key] = value
  }
  return { tags }
}

/** How a tag edit is written: onto each job's own tags, or replacing them all. */
export type TagMode = 'merge' | 'replace'

/**
 * One job's tags after a merge: the keys the user removed from the shared list (`start`) are
 * dropped, the listed ones set; every other tag of the job is kept.
 */
export function mergeTags(jobTags: Tags, start: Tags, next: Tags): Record<string, string> {
  const merged: Record<string, string> = { ...jobTags }
  for (const key of Object.keys(start)) if (!(key in next)) delete merged[key]
  return Object.assign(merged, next)
}

/** What writing `nextOf(tags)` onto each job's `tags` does, as sentences. */
export function tagChangesEach(current: readonly Tags[], nextOf: (tags: Tags) => Tags): string[] {
  const removed = new Map<string, number>()
  const changed = new Map<string, number>()
  const added = new Map<string, number>()
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)
  for (const tags of current) {
    const next = nextOf(tags)
    for (const [key, value] of Object.entries(tags)) {
      if (!(key in next)) bump(removed, `${key}=${value}`)
      else if (next[key] !== value) bump(changed, `${key} to ${next[key]}`)
    }
    for (const [key, value] of Object.entries(next)) {
      if (!(key in tags)) bump(added, `${key}=${value}`)
    }
  }
  const n = current.length
  const on = (count: number) =>
    count === n ? `all ${jobsCount(n)}` : `${formatCount(count)} of ${jobsCount(n)}`
  return [
    ...[...removed].map(([tag, count]) => `Removes ${tag} from ${on(count)}.`),
    ...[...changed].map(([change, count]) => `Changes ${change} on ${on(count)}.`),
    ...[...added].map(([tag, count]) => `Adds ${tag} to ${on(count)}.`),
  ]
}
