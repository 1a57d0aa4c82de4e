// One server page a view shows: loaded once the stream had its chance to connect, again when
// the query changes or the stream asks for a reload; a late answer to an older query is
// dropped. `reload()` fetches even what the GET memo remembers (the user asked).
import { ref, watch, type Ref } from 'vue'

import { memoKey } from '@/api/getMemo'
import type { PageSummary } from '@/domain/livePage'

import { useLiveLoad } from './useLiveLoad'

export interface PagedLoader<Q> {
  loadPage(query: Q): Promise<PageSummary | null>
  reloadPage(query: Q): Promise<PageSummary | null>
}

export function useServerPage<Q extends object>(
  path: string,
  loader: PagedLoader<Q>,
  query: () => Q,
  options: { onQueryChange?: () => void; alsoLoad?: () => void } = {},
): { summary: Ref<PageSummary | null>; reload: () => Promise<void> } {
  const summary = ref<PageSummary | null>(null)
  let latest = 0

  async function load(fresh: boolean) {
    const mine = ++latest
    options.alsoLoad?.()
    const q = query()
    const page = await (fresh ? loader.reloadPage(q) : loader.loadPage(q))
    if (mine === latest && page !== null) summary.value = page
  }

  useLiveLoad(() => load(false))
  watch(
    () => memoKey(path, query()),
    () => {
      options.onQueryChange?.()
      void load(false)
    },
  )

  return { summary, reload: () => load(true) }
}
