// A value that follows `source` at most once per `intervalMs`: the first change shows at once,
// changes during the next `intervalMs` are folded into one update at its end. Views that show
// a page of a store changing many times a second (a stream of job updates) recompute and
// re-render a few times a second instead of every frame, while a lone change still shows
// immediately.
import { getCurrentScope, onScopeDispose, shallowRef, watch, type ShallowRef } from 'vue'

/** How often a live table re-renders at most while its store streams changes. */
export const LIVE_TABLE_INTERVAL_MS = 250

export function useCoalesced<T>(
  source: () => T,
  intervalMs = LIVE_TABLE_INTERVAL_MS,
  now: () => number = () => performance.now(),
): Readonly<ShallowRef<T>> {
  const out = shallowRef(source())
  let last = Number.NEGATIVE_INFINITY
  let timer: ReturnType<typeof setTimeout> | null = null

  function publish() {
    timer = null
    last = now()
    out.value = source()
  }

  const stop = watch(source, () => {
    if (timer !== null) return
    const wait = last + intervalMs - now()
    if (wait <= 0) publish()
    else timer = setTimeout(publish, wait)
  })

  if (getCurrentScope()) {
    onScopeDispose(() => {
      stop()
      if (timer !== null) clearTimeout(timer)
    })
  }
  return out
}
