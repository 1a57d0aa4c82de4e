// The one reducer behind every resource store: rows keyed by id, upserted by REST results
// and events alike, removed only by delete events. Per-row sequence numbers and tombstones
// implement DESIGN.md §3 point 4 (no stale overwrite, no resurrection of deleted rows).
//
// Reactivity is per table, not per row: the rows live in a plain (markRaw) object keyed by id
// behind one shallowRef, triggered once per applied change. A view reading `byId[id]` or `all`
// depends on that one ref, so 100 000 rows cost no proxies and no 100 000 dependency links, and
// a batch of events (applied together, once per animation frame) re-runs each view's computed
// values once. Rows are frozen and replaced whole, never mutated, so nothing deeper needs
// tracking.
import { computed, markRaw, shallowRef, triggerRef } from 'vue'

import {
  normalizeChange,
  type IdentifiedRow,
  type NormalizedChange,
  type ResourceChange,
  type ResourceType,
} from '@/realtime/change'

export interface Identified {
  readonly id: number
}

/** What one change did; `ignored` counts rows refused as stale, deleted or incomplete. */
export interface ApplyOutcome {
  upserted: number
  deleted: number
  ignored: number
}

export interface TableState<T extends Identified> {
  /** Rows are frozen and replaced whole, never mutated in place. */
  byId: Record<number, Readonly<T>>
  /** Every row's id, least recently written first (eviction order). */
  recency?: Map<number, true>
  /** The sequence number that last wrote each row, when the write carried one. */
  seqById: Map<number, number>
  /** Deleted ids, with the sequence number of the delete (`null`: unknown). */
  tombstones: Map<number, number | null>
}

export function createTableState<T extends Identified>(
  byId: Record<number, Readonly<T>> = {},
): TableState<T> {
  return { byId, seqById: new Map(), tombstones: new Map() }
}

/** Whether `row` (a full or partial write) says nothing `existing` does not already hold. */
function sameRow(existing: object, row: IdentifiedRow): boolean {
  const held = existing as Record<string, unknown>
  return Object.entries(row).every(([key, value]) => {
    const before = held[key]
    if (before === value) return true
    return (
      typeof before === 'object' &&
      typeof value === 'object' &&
      before !== null &&
      value !== null &&
      JSON.stringify(before) === JSON.stringify(value)
    )
  })
}

/**
 * Applies a normalized change in place.
 *
 * - Upserts merge into the existing row, so a partial update of a known row works;
 *   a row not yet known is only inserted when `isComplete` accepts it.
 * - A write carrying `seq` older than the row's last write is ignored, and so is one at the
 *   same `seq` that changes nothing.
 * - A deleted id stays deleted: only a write with a `seq` newer than the delete's may
 *   bring it back (ids are never reused, so in practice nothing does).
 * - Deletes always delete; nothing but a delete change ever removes a row.
 */
export function applyToTable<T extends Identified>(
  state: TableState<T>,
  change: NormalizedChange,
  isComplete: (row: IdentifiedRow) => boolean,
): ApplyOutcome {
  const outcome: ApplyOutcome = { upserted: 0, deleted: 0, ignored: 0 }
  const { seq } = change
  if (change.op === 'delete') {
    for (const id of change.ids) {
      if (id in state.byId) outcome.deleted += 1
      delete state.byId[id]
      state.recency?.delete(id)
      state.seqById.delete(id)
      const previous = state.tombstones.get(id)
      const tomb =
        seq === undefined ? (previous ?? null) : Math.max(seq, previous ?? Number.NEGATIVE_INFINITY)
      state.tombstones.set(id, tomb)
    }
    return outcome
  }
  for (const row of change.rows) {
    const { id } = row
    const tomb = state.tombstones.get(id)
    if (tomb !== undefined) {
      if (seq === undefined || tomb === null || seq <= tomb) {
        outcome.ignored += 1
        continue
      }
      state.tombstones.delete(id)
    }
    const rowSeq = state.seqById.get(id)
    if (seq !== undefined && rowSeq !== undefined && seq < rowSeq) {
      outcome.ignored += 1
      continue
    }
    const existing = state.byId[id]
    // The same snapshot again (two list answers at one `seq`, e.g. a page and the first
    // load's newest jobs): re-writing would re-render the row and flash it as changed.
    if (existing !== undefined && seq !== undefined && seq === rowSeq && sameRow(existing, row)) {
      outcome.ignored += 1
      continue
    }
    if (existing === undefined && !isComplete(row)) {
      outcome.ignored += 1
      continue
    }
    // The row is trusted server JSON whose shape `isComplete` (or the existing row) vouches for.
    const merged = (existing === undefined ? { ...row } : { ...existing, ...row }) as unknown as T
    state.byId[id] = Object.freeze(merged)
    if (state.recency !== undefined) {
      state.recency.delete(id)
      state.recency.set(id, true)
    }
    if (seq !== undefined) state.seqById.set(id, Math.max(seq, rowSeq ?? seq))
    outcome.upserted += 1
  }
  return outcome
}

/**
 * A complete, unfiltered listing read at snapshot `seq` is the truth as of `seq`: a row it
 * lacks whose last write is not newer was deleted by then (in a gap the event stream could
 * not replay, which is when such a listing is fetched again). Removes those rows, with
 * tombstones at `seq`; returns how many.
 */
export function retainListed<T extends Identified>(
  state: TableState<T>,
  listed: ReadonlySet<number>,
  seq: number,
): number {
  const gone: number[] = []
  for (const key of Object.keys(state.byId)) {
    const id = Number(key)
    if (listed.has(id)) continue
    const rowSeq = state.seqById.get(id)
    if (rowSeq === undefined || rowSeq <= seq) gone.push(id)
  }
  return applyToTable(state, { op: 'delete', ids: gone, seq }, () => false).deleted
}

/** Tombstones kept at most: they only guard against answers older than the delete. */
export const MAX_TOMBSTONES = 10_000

/**
 * Drops the least recently written rows that `pinned` does not hold until at most `target`
 * remain (pinned rows are never dropped). An evicted row is not deleted: a later GET or event may bring it back.
 * Returns the ids evicted.
 */
export function evictRows<T extends Identified>(
  state: TableState<T>,
  target: number,
  pinned: (id: number) => boolean,
): number[] {
  const evicted: number[] = []
  const recency = state.recency ?? new Map(Object.keys(state.byId).map((k) => [Number(k), true]))
  let size = recency.size
  for (const id of recency.keys()) {
    if (size <= target) break
    if (pinned(id)) continue
    delete state.byId[id]
    state.seqById.delete(id)
    recency.delete(id)
    evicted.push(id)
    size -= 1
  }
  return evicted
}

/** Forgets the oldest tombstones beyond [`MAX_TOMBSTONES`]. */
export function pruneTombstones<T extends Identified>(state: TableState<T>): void {
  for (const id of state.tombstones.keys()) {
    if (state.tombstones.size <= MAX_TOMBSTONES) break
    state.tombstones.delete(id)
  }
}

/** A predicate that accepts rows carrying every key of the resource's read shape named here. */
export function hasKeys(...keys: string[]): (row: IdentifiedRow) => boolean {
  return (row) => keys.every((key) => key in row)
}

/**
 * The keyed table inside a setup store: `byId`, `apply(change)` and a row count.
 * Changes of another resource type are refused loudly: routing is the caller's job.
 */
export interface TableBound {
  /** Rows held at most; past it, rows no view pins are evicted down to 80 % of it. */
  cap: number
  /** Called with the evicted ids (to forget the GETs whose answers held them). */
  onEvict?: (ids: number[]) => void
}

export function useResourceTable<T extends Identified>(
  type: ResourceType,
  isComplete: (row: IdentifiedRow) => boolean,
  bound?: TableBound,
) {
  const state = createTableState<T>(markRaw({}))
  if (bound !== undefined) state.recency = new Map()
  /** Ids each mounted view shows (`pin`): never evicted while pinned. */
  const pins = new Map<symbol, ReadonlySet<number>>()
  const isPinned = (id: number) => {
    for (const ids of pins.values()) if (ids.has(id)) return true
    return false
  }
  /** The rows by id; reading it (or `all`) subscribes to every change of the table. */
  const byId = shallowRef(state.byId)
  /** Grows with every change of the table (for views that refresh at their own pace). */
  const version = shallowRef(0)

  function changed() {
    if (bound !== undefined && state.recency !== undefined && state.recency.size > bound.cap) {
      const evicted = evictRows(state, Math.floor(bound.cap * 0.8), isPinned)
      if (evicted.length > 0) bound.onEvict?.(evicted)
    }
    if (bound !== undefined) pruneTombstones(state)
    triggerRef(byId)
    version.value += 1
  }

  /** Keeps `ids` in the table while `owner` shows them (replaces `owner`'s earlier pins). */
  function pin(owner: symbol, ids: Iterable<number>) {
    pins.set(owner, new Set(ids))
  }

  function unpin(owner: symbol) {
    pins.delete(owner)
  }

  /** The table's one reducer, shared by events and REST results. */
  function reduce(change: NormalizedChange): ApplyOutcome {
    const outcome = applyToTable(state, change, isComplete)
    if (outcome.upserted > 0 || outcome.deleted > 0) changed()
    return outcome
  }

  /** An event of the stream. */
  function apply(change: ResourceChange): ApplyOutcome {
    if (change.type !== type) {
      throw new Error(`a ${change.type} change was routed to the ${type} store`)
    }
    return reduce(normalizeChange(change))
  }

  /** REST results: upserted as they are, carrying the snapshot's sequence if any. */
  function applyRows(rows: readonly T[], seq?: number): ApplyOutcome {
    // A typed row is an identified row whose fields TypeScript knows.
    const upsert: NormalizedChange = { op: 'upsert', rows: rows as unknown as IdentifiedRow[] }
    return reduce(seq === undefined ? upsert : { ...upsert, seq })
  }

  /**
   * Upserts a list answer; when it is the complete, unfiltered collection (`complete`) and
   * carries its snapshot `seq`, also drops the rows it proves deleted (`retainListed`).
   */
  function applyList(
    page: { count: number; results: readonly T[]; seq?: number },
    complete: boolean,
  ): ApplyOutcome {
    const outcome = applyRows(page.results, page.seq)
    if (complete && page.seq !== undefined && page.results.length === page.count) {
      const listed = new Set(page.results.map((row) => row.id))
      const deleted = retainListed(state, listed, page.seq)
      outcome.deleted += deleted
      if (deleted > 0) changed()
    }
    return outcome
  }

  /** Forgets every row, sequence and tombstone: the data belonged to a login that ended. */
  function clear() {
    state.byId = markRaw({})
    state.seqById.clear()
    state.tombstones.clear()
    state.recency?.clear()
    byId.value = state.byId
    version.value += 1
  }

  /** The rows by id right now, without subscribing to changes (pair with `version`). */
  function peekById(): Readonly<Record<number, Readonly<T>>> {
    return state.byId
  }

  /** Every row right now, without subscribing to changes (pair with `version`). */
  function peekAll(): Readonly<T>[] {
    return Object.values<Readonly<T>>(state.byId)
  }

  /** Every row, unordered. */
  const all = computed(() => Object.values<Readonly<T>>(byId.value))
  const size = computed(() => all.value.length)

  return {
    byId,
    version,
    peekById,
    peekAll,
    apply,
    applyRows,
    applyList,
    all,
    size,
    clear,
    pin,
    unpin,
  }
}

/** The sequence number a list answer reflects (its `X-Balsam-Seq`, DESIGN.md §3.4). */
export function snapshotSeq(page: object): number | undefined {
  const { seq } = page as { seq?: unknown }
  return typeof seq === 'number' && Number.isSafeInteger(seq) ? seq : undefined
}

/** A query with no filter (paging and ordering aside): its answer can be the whole collection. */
export function isUnfiltered(query: object): boolean {
  return Object.entries(query).every(
    ([key, value]) => value === undefined || ['limit', 'offset', 'ordering'].includes(key),
  )
}
