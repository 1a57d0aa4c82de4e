// Which rows just changed, for a brief highlight (UX.md: numbers and rows change in place,
// with a subtle highlight). Rows are frozen and replaced on every write, so a new object
// under a known id is a change.
import { ref, watch, type Ref, type WatchSource } from 'vue'

export const FLASH_MS = 1_500

export function useFlash<T extends { id: number }>(
  rows: WatchSource<readonly T[]>,
): Ref<Set<number>> {
  const flashing = ref(new Set<number>())
  let previous = new Map<number, T>()
  const timers = new Map<number, ReturnType<typeof setTimeout>>()

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
    const set = new Set(flashing.value)
    for (const id of changed) {
      set.add(id)
      clearTimeout(timers.get(id))
      timers.set(
        id,
        setTimeout(() => {
          timers.delete(id)
          const after = new Set(flashing.value)
          after.delete(id)
          flashing.value = after
        }, FLASH_MS),
      )
    }
    flashing.value = set
  })

  return flashing
}
