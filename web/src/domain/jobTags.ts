// Editing job tags: the server replaces a job's whole `tags` object (`PUT /jobs/?id=…` with
// `{"tags": …}`), so the editor starts from the tags every selected job shares and says,
// before anything is written, which tags each job loses, gains or sees changed.
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
  const removed = new Map<string, number>()
  const changed = new Map<string, number>()
  const added = new Map<string, number>()
  for (const tags of current) {
    for (const [key, value] of Object.entries(tags)) {
      if (!(key in next)) removed.set(`${key}=${value}`, (removed.get(`${key}=${value}`) ?? 0) + 1)
      else if (next[key] !== value) changed.set(key, (changed.get(key) ?? 0) + 1)
    }
    for (const [key, value] of Object.entries(next)) {
      if (!(key in tags)) added.set(`${key}=${value}`, (added.get(`${key}=${value}`) ?? 0) + 1)
    }
  }
  const n = current.length
  const on = (count: number) =>
    count === n ? `all ${jobsCount(n)}` : `${formatCount(count)} of ${jobsCount(n)}`
  return [
    ...[...removed].map(([tag, count]) => `Removes ${tag} from ${on(count)}.`),
    ...[...changed].map(([key, count]) => `Changes ${key} to ${next[key]} on ${on(count)}.`),
    ...[...added].map(([tag, count]) => `Adds ${tag} to ${on(count)}.`),
  ]
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
