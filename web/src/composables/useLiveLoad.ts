// Loads what a component shows: once the event stream is welcomed (subscribe before
// fetching, seed "Client data flow"), and again whenever the stream says fetched data may have
// missed changes (a fresh start after an early load, or a `resync`). A reconnect that
// resumes loses nothing, so it reloads nothing.
import { onMounted, watch } from 'vue'

import { useConnectionStore } from '@/stores/connection'

/** How long a first load waits for the event stream before fetching anyway. */
export const CONNECT_GRACE_MS = 3_000

export function useLiveLoad(load: () => unknown): void {
  const connection = useConnectionStore()
  let loadedOnce = false

  // Waiting: the stream is connecting, or failed before its first welcome. Settled: it is
  // live, it has a resume point (a reconnect loses nothing), it was refused, or there is no
  // stream at all (idle).
  function waiting(): boolean {
    const { phase, lastSeq } = connection.status
    return phase === 'connecting' || (phase === 'reconnecting' && lastSeq === null)
  }

  function settled(): Promise<void> {
    if (!waiting()) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, CONNECT_GRACE_MS)
      const stop = watch(waiting, (still) => !still && done())
      function done() {
        clearTimeout(timer)
        stop()
        resolve()
      }
    })
  }

  onMounted(async () => {
    await settled()
    loadedOnce = true
    load()
  })

  watch(
    () => connection.reloads,
    () => {
      // Before the first load, that load is still to come and will see the cleared memo.
      if (loadedOnce) load()
    },
  )
}
