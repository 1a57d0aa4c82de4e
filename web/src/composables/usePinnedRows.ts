// Keeps the rows a view shows in their bounded store (stores/resourceTable.ts evicts the
// least recently written rows no view pins): pinned while the view is mounted, updated as
// the ids it shows change, released when it unmounts.
import { onBeforeUnmount, watch } from 'vue'

interface Pinnable {
  pin(owner: symbol, ids: Iterable<number>): void
  unpin(owner: symbol): void
}

export function usePinnedRows(store: Pinnable, ids: () => Iterable<number>): void {
  const owner = Symbol('view')
  watch(ids, (current) => store.pin(owner, current), { immediate: true })
  onBeforeUnmount(() => store.unpin(owner))
}
