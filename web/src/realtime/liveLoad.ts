// Loading in step with the event stream: once it is welcomed (subscribe before fetching, seed
// "Client data flow"), and again whenever it says fetched data may have missed changes (a
// fresh start after an early load, or a `resync`). A reconnect that resumes loses nothing, so
// it reloads nothing.
import { effectScope, watch } from 'vue'

import { useConnectionStore } from '@/stores/connection'

/** How long a first load waits for the event stream before fetching anyway. */
export const CONNECT_GRACE_MS = 3_000

/**
 * Waiting: the stream is connecting, or failed before its first welcome. Settled: it is live,
 * it has a resume point (a reconnect loses nothing), it was refused, or there is no stream at
 * all (idle).
 */
function waiting(): boolean {
  const { phase, lastSeq } = useConnectionStore().status
  return phase === 'connecting' || (phase === 'reconnecting' && lastSeq === null)
}

/** Resolves once the stream settles, or after `maxMs`, whichever comes first. */
export function whenStreamSettles(maxMs: number = CONNECT_GRACE_MS): Promise<void> {
  if (!waiting()) return Promise.resolve()
  const scope = effectScope(true)
  return new Promise((resolve) => {
    const timer = setTimeout(done, maxMs)
    scope.run(() => watch(waiting, (still) => !still && done()))
    function done() {
      clearTimeout(timer)
      scope.stop()
      resolve()
    }
  })
}

/** Runs `load` once the stream settles and again on each reload; returns a stop function. */
export function followLiveLoads(load: () => unknown): () => void {
  const connection = useConnectionStore()
  const scope = effectScope(true)
  let loadedOnce = false
  let stopped = false

  scope.run(() =>
    watch(
      () => connection.reloads,
      () => {
        // Before the first load, that load is still to come and will see the cleared memo.
        if (loadedOnce && !stopped) load()
      },
    ),
  )
  void whenStreamSettles().then(() => {
    if (stopped) return
    loadedOnce = true
    load()
  })

  return () => {
    stopped = true
    scope.stop()
  }
}
