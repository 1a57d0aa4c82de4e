// Which rows just changed, for a brief highlight (UX.md: numbers and rows change in place,
// with a subtle highlight). Rows are frozen and replaced on every write, so a new object
// under a known id is a change. Rows changed together stop flashing together: one timer and
// one re-render per batch, not per row.
import { shallowRef, watch, type Ref, type WatchSource } from 'vue'

export const FLASH_MS = 1_500

export function useFlash<T extends { id: number }>(
  rows: WatchSource<readonly T[]>,
): Ref<ReadonlySet<number>> {
  const flashing = shallowRef<ReadonlySet<number>>(new Set())
  let previous = new Map<number, T>()
  /** The batch that last flashed each id: an older batch's timer leaves it alone. */
  const batchOf = new Map<number, number>()
  let batches = 0

  watch(rows, (current) => {
    const next = new Map<number, T>()
    const changed: number[] = []
    for (const row of current) {
      const before = previous.get(row.id)
      if (before !== undefined && before !== row) changed.push(row.id)
      next.set(row.id, row)
    }
    previous = next
    if (changed.length === 0) return
    const batch = ++batches
    const set = new Set(flashing.value)
    for (const id of changed) {
      set.add(id)
      batchOf.set(id, batch)
    }
    flashing.value = set
    setTimeout(() => {
      const after = new Set(flashing.value)
      for (const id of changed) {
        if (batchOf.get(id) !== batch) continue
        batchOf.delete(id)
        after.delete(id)
      }
      if (after.size !== flashing.value.size) flashing.value = after
    }, FLASH_MS)
  })

  return flashing
}
