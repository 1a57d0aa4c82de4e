// Loads what a component shows: once the event stream has had its chance to connect
// (subscribe before fetching), and again whenever the stream says fetched data may have
// missed changes (a fresh start after an early load, or a `resync`). A reconnect that
// resumes loses nothing, so it reloads nothing.
import { onMounted, watch } from 'vue'

import { useConnectionStore } from '@/stores/connection'

/** How long a first load waits for the event stream before fetching anyway. */
export const CONNECT_GRACE_MS = 3_000

export function useLiveLoad(load: () => unknown): void {
  const connection = useConnectionStore()
  let loadedOnce = false

  function settled(): Promise<void> {
    if (connection.status.phase !== 'connecting') return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, CONNECT_GRACE_MS)
      const stop = watch(
        () => connection.status.phase,
        (phase) => phase !== 'connecting' && done(),
      )
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
