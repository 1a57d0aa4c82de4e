// Repetition note: each test spells out its own steps so a failure reads on its own; shared set-up lives in src/test-support/.
import { describe, expect, it } from 'vitest'
import { computed, isReactive } from 'vue'

import type { IdentifiedRow } from '@/realtime/change'

import {
  applyToTable,
  createTableState,
  hasKeys,
  isUnfiltered,
  retainListed,
  useResourceTable,
} from './resourceTable'

interface Thing {
  id: number
  name: string
  size: number
  tags?: Record<string, string>
}

const complete = hasKeys('name', 'size')

function table() {
  return createTableState<Thing>()
}

function upsert(rows: IdentifiedRow[], seq?: number) {
  return { op: 'upsert' as const, rows, ...(seq === undefined ? {} : { seq }) }
}

function remove(ids: number[], seq?: number) {
  return { op: 'delete' as const, ids, ...(seq === undefined ? {} : { seq }) }
}

describe('applyToTable without sequence numbers (today’s server)', () => {
  it('inserts complete rows and merges later writes into them', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }]), complete)
    const outcome = applyToTable(state, upsert([{ id: 1, size: 2 }]), complete)

    expect(outcome).toEqual({ upserted: 1, deleted: 0, ignored: 0 })
    expect(state.byId[1]).toEqual({ id: 1, name: 'a', size: 2 })
  })

  it('refuses a partial row it cannot complete', () => {
    const state = table()
    const outcome = applyToTable(state, upsert([{ id: 7, size: 2 }]), complete)

    expect(outcome.ignored).toBe(1)
    expect(state.byId[7]).toBeUndefined()
  })

  it('never evicts rows missing from a later result', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }]), complete)
    applyToTable(state, upsert([{ id: 2, name: 'b', size: 1 }]), complete)

    expect(Object.keys(state.byId)).toEqual(['1', '2'])
  })

  it('deletes, and does not let a late GET resurrect the deleted row', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }]), complete)
    expect(applyToTable(state, remove([1]), complete).deleted).toBe(1)

    const late = applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }]), complete)

    expect(late.ignored).toBe(1)
    expect(state.byId[1]).toBeUndefined()
  })

  it('remembers a delete of a row it never had', () => {
    const state = table()
    applyToTable(state, remove([5]), complete)
    applyToTable(state, upsert([{ id: 5, name: 'e', size: 1 }]), complete)

    expect(state.byId[5]).toBeUndefined()
  })

  it('stores rows frozen, so nothing mutates them behind the reducer’s back', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }]), complete)

    expect(Object.isFrozen(state.byId[1])).toBe(true)
  })
})

describe('applyToTable with sequence numbers (DESIGN.md §3 point 4)', () => {
  it('ignores a write older than the row’s last write (connect-then-fetch race)', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'new', size: 2 }], 10), complete)
    const stale = applyToTable(state, upsert([{ id: 1, name: 'old', size: 1 }], 9), complete)

    expect(stale.ignored).toBe(1)
    expect(state.byId[1]?.name).toBe('new')
  })

  it('accepts a write at the same or a newer sequence', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }], 10), complete)
    applyToTable(state, upsert([{ id: 1, name: 'b', size: 1 }], 10), complete)
    expect(state.byId[1]?.name).toBe('b')
    applyToTable(state, upsert([{ id: 1, name: 'c', size: 1 }], 11), complete)
    expect(state.byId[1]?.name).toBe('c')
    expect(state.seqById.get(1)).toBe(11)
  })

  it('ignores the same snapshot written twice: no change to re-render or flash', () => {
    const state = table()
    const row = { id: 1, name: 'a', size: 1, tags: { exp: 'x' } }
    applyToTable(state, upsert([row], 10), complete)
    const first = state.byId[1]

    const again = applyToTable(state, upsert([{ ...row, tags: { exp: 'x' } }], 10), complete)
    expect(again).toEqual({ upserted: 0, deleted: 0, ignored: 1 })
    expect(state.byId[1]).toBe(first)

    const changed = applyToTable(state, upsert([{ ...row, tags: { exp: 'y' } }], 10), complete)
    expect(changed.upserted).toBe(1)
    expect(state.byId[1]?.tags).toEqual({ exp: 'y' })
  })

  it('keeps the highest sequence when a write without one follows', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }], 10), complete)
    applyToTable(state, upsert([{ id: 1, name: 'b', size: 1 }]), complete)
    const stale = applyToTable(state, upsert([{ id: 1, name: 'z', size: 1 }], 4), complete)

    expect(stale.ignored).toBe(1)
    expect(state.byId[1]?.name).toBe('b')
  })

  it('does not resurrect a row from a snapshot taken before its delete', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }], 3), complete)
    applyToTable(state, remove([1], 8), complete)

    expect(applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }], 7), complete).ignored).toBe(
      1,
    )
    expect(applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }], 8), complete).ignored).toBe(
      1,
    )
    expect(state.byId[1]).toBeUndefined()
    expect(state.tombstones.get(1)).toBe(8)
  })

  it('lets only a strictly newer sequenced write pass a tombstone', () => {
    const state = table()
    applyToTable(state, remove([1], 8), complete)
    applyToTable(state, upsert([{ id: 1, name: 'again', size: 1 }], 9), complete)

    expect(state.byId[1]?.name).toBe('again')
    expect(state.tombstones.has(1)).toBe(false)
  })

  it('keeps the newest delete sequence when deletes repeat out of order', () => {
    const state = table()
    applyToTable(state, remove([1], 8), complete)
    applyToTable(state, remove([1], 5), complete)
    applyToTable(state, upsert([{ id: 1, name: 'x', size: 1 }], 7), complete)

    expect(state.tombstones.get(1)).toBe(8)
    expect(state.byId[1]).toBeUndefined()
  })
})

describe('retainListed (a complete listing at a snapshot)', () => {
  it('drops unlisted rows not written after the snapshot, tombstoned at it', () => {
    const state = table()
    applyToTable(state, upsert([{ id: 1, name: 'a', size: 1 }], 3), complete)
    applyToTable(state, upsert([{ id: 2, name: 'b', size: 1 }], 5), complete)
    applyToTable(state, upsert([{ id: 3, name: 'c', size: 1 }], 11), complete)
    applyToTable(state, upsert([{ id: 4, name: 'd', size: 1 }]), complete)

    expect(retainListed(state, new Set([1]), 10)).toBe(2)
    expect(Object.keys(state.byId)).toEqual(['1', '3'])
    expect(state.tombstones.get(2)).toBe(10)
    expect(state.tombstones.get(4)).toBe(10)
  })
})

describe('isUnfiltered', () => {
  it('ignores paging and ordering, and undefined values', () => {
    expect(isUnfiltered({})).toBe(true)
    expect(isUnfiltered({ limit: 10, offset: 5, ordering: 'name', name: undefined })).toBe(true)
    expect(isUnfiltered({ name: 'x' })).toBe(false)
  })
})

describe('useResourceTable', () => {
  it('applies REST rows and socket changes through the same reducer', () => {
    const things = useResourceTable<Thing>('site', complete)
    things.applyRows([{ id: 1, name: 'a', size: 1 }])
    things.apply({ action: 'update', type: 'site', data: { id: 1, size: 5 } })
    things.apply({ action: 'create', type: 'site', data: { id: 2, name: 'b', size: 1 } })
    things.apply({ action: 'delete', type: 'site', data: { id: 2 } })

    expect(things.byId.value[1]).toEqual({ id: 1, name: 'a', size: 5 })
    expect(things.byId.value[2]).toBeUndefined()
    expect(things.size.value).toBe(1)
  })

  it('holds rows raw behind one ref: one recompute per applied change, none for refused ones', () => {
    const things = useResourceTable<Thing>('site', complete)
    let runs = 0
    const first = computed(() => {
      runs += 1
      return things.byId.value[1]?.size
    })
    things.applyRows(Array.from({ length: 1_000 }, (_, i) => ({ id: i + 1, name: 'x', size: i })))
    expect(first.value).toBe(0)
    expect(runs).toBe(1)
    expect(isReactive(things.byId.value)).toBe(false)
    expect(isReactive(things.byId.value[1])).toBe(false)

    things.apply({ action: 'bulk-update', type: 'site', data: [{ id: 1, size: 9 }], seq: 5 })
    expect(first.value).toBe(9)
    expect(runs).toBe(2)
    // Stale (older seq): refused, so nothing downstream recomputes.
    things.apply({ action: 'bulk-update', type: 'site', data: [{ id: 1, size: 3 }], seq: 4 })
    expect(first.value).toBe(9)
    expect(runs).toBe(2)

    things.clear()
    expect(first.value).toBeUndefined()
    expect(things.size.value).toBe(0)
  })

  it('refuses a change routed to the wrong store', () => {
    const things = useResourceTable<Thing>('site', complete)

    expect(() => things.apply({ action: 'create', type: 'app', data: { id: 1 } })).toThrow(
      /app change was routed to the site store/,
    )
  })
})
